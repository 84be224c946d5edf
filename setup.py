"""dkd_tf: Dynamic Kernel Distillation (Nie et al., ICCV 2019) for video pose estimation."""
from setuptools import find_packages, setup

setup(
    name="dkd_tf",
    version="0.1.0",
    description="Dynamic Kernel Distillation for efficient video pose estimation, in TF/Keras",
    packages=find_packages(include=["dkd_tf", "dkd_tf.*", "export", "export.*"]),
    python_requires=">=3.10",
    install_requires=[
        # CI and the demo use the CPU build; on a GPU machine install `tensorflow` instead.
        "tensorflow-cpu>=2.16",
        "keras>=3.0",
        "numpy",
        "scipy",
        "opencv-python-headless",
        "absl-py",
        "matplotlib",
        "tqdm",
        "tensorboard",
    ],
    extras_require={
        "export": ["tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"],
        "test": ["pytest", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"],
        "dev": ["pytest", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"],
    },
)
