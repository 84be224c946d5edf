package org.dkdtf.posedemo;

import android.content.Context;
import android.graphics.Bitmap;
import android.graphics.Canvas;
import android.graphics.Color;
import android.graphics.Paint;
import android.graphics.Rect;
import android.graphics.RectF;
import android.util.AttributeSet;
import android.view.View;

import java.util.List;

import org.dkdtf.posedemo.data.CropRegion;
import org.dkdtf.posedemo.data.Keypoint;
import org.dkdtf.posedemo.data.Pose;

/**
 * The camera frame, scaled to fit, with the skeleton on top: the manifest's edges between
 * keypoints whose confidence reaches the tracker's keypoint threshold (left side blue, right side
 * orange, centre green, as dkd_tf.tracking.drawing.draw_pose), joints below it grey, and the crop square.
 */
public final class OverlayView extends View {
    private final Paint bitmapPaint = new Paint(Paint.FILTER_BITMAP_FLAG);
    private final Paint line = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Paint dot = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Paint box = new Paint(Paint.ANTI_ALIAS_FLAG);
    private final Rect src = new Rect();
    private final RectF dst = new RectF();
    private Bitmap frame;
    private Pose pose;
    private CropRegion crop;
    private int[][] edges = new int[0][];
    private float threshold;

    public OverlayView(Context context, AttributeSet attrs) {
        super(context, attrs);
        line.setStrokeWidth(6f);
        line.setStrokeCap(Paint.Cap.ROUND);
        box.setStyle(Paint.Style.STROKE);
        box.setStrokeWidth(2f);
        box.setColor(Color.argb(200, 220, 220, 220));
    }

    /** The skeleton (manifest joints.edges) and the drawing threshold (manifest tracker). */
    public void setSkeleton(int[][] edges, double keypointThreshold) {
        this.edges = edges;
        this.threshold = (float) keypointThreshold;
    }

    /** One processed frame (call on the UI thread); pose and crop may be null. */
    public void show(Bitmap frame, Pose pose, CropRegion crop) {
        this.frame = frame;
        this.pose = pose;
        this.crop = crop;
        invalidate();
    }

    private static int color(String name) {
        if (name.startsWith("l_")) {
            return Color.rgb(0, 140, 255);
        }
        if (name.startsWith("r_")) {
            return Color.rgb(255, 140, 0);
        }
        return Color.rgb(0, 220, 0);
    }

    @Override
    protected void onDraw(Canvas canvas) {
        canvas.drawColor(Color.BLACK);
        if (frame == null) {
            return;
        }
        float scale = Math.min(getWidth() / (float) frame.getWidth(),
                getHeight() / (float) frame.getHeight());
        float ox = (getWidth() - frame.getWidth() * scale) / 2f;
        float oy = (getHeight() - frame.getHeight() * scale) / 2f;
        src.set(0, 0, frame.getWidth(), frame.getHeight());
        dst.set(ox, oy, ox + frame.getWidth() * scale, oy + frame.getHeight() * scale);
        canvas.drawBitmap(frame, src, dst, bitmapPaint);
        if (crop != null) {
            canvas.drawRect(ox + crop.x1 * scale, oy + crop.y1 * scale, ox + crop.x2 * scale,
                    oy + crop.y2 * scale, box);
        }
        if (pose == null) {
            return;
        }
        List<Keypoint> kp = pose.keypoints;
        for (int[] e : edges) {
            Keypoint a = kp.get(e[0]);
            Keypoint b = kp.get(e[1]);
            if (a.score < threshold || b.score < threshold) {
                continue;
            }
            boolean sameSide = a.name.length() > 1 && b.name.length() > 1
                    && a.name.substring(0, 2).equals(b.name.substring(0, 2));
            line.setColor(sameSide ? color(a.name) : Color.rgb(0, 220, 0));
            canvas.drawLine(ox + a.x * scale, oy + a.y * scale, ox + b.x * scale,
                    oy + b.y * scale, line);
        }
        for (Keypoint k : kp) {
            dot.setColor(k.score >= threshold ? color(k.name) : Color.GRAY);
            canvas.drawCircle(ox + k.x * scale, oy + k.y * scale, 8f, dot);
        }
    }
}
