"""Published pose networks as a dependency: fetched with the package manager, cached, checked by
sha256, loaded (TF.js graph models into TF, .tflite files with LiteRT), and run as peers and
teachers whose keypoints map onto our joint sets."""
