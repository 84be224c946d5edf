package org.dkdtf.posedemo.core;

/** Float32 reductions that give numpy's results to the bit. */
public final class Numerics {
    private Numerics() {
    }

    /** numpy.mean of a float32 vector: pairwise float32 sum (numpy's pairwise_sum) / n. */
    public static float mean(float[] v) {
        return pairwiseSum(v, 0, v.length) / (float) v.length;
    }

    /** numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src), block size 128. */
    static float pairwiseSum(float[] a, int start, int n) {
        if (n < 8) {
            float res = 0.0f;
            for (int i = 0; i < n; i++) {
                res += a[start + i];
            }
            return res;
        }
        if (n <= 128) {
            float[] r = new float[8];
            for (int j = 0; j < 8; j++) {
                r[j] = a[start + j];
            }
            int i;
            for (i = 8; i < n - (n % 8); i += 8) {
                for (int j = 0; j < 8; j++) {
                    r[j] += a[start + i + j];
                }
            }
            float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                res += a[start + i];
            }
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
    }

    public static float min(float[] v) {
        float m = v[0];
        for (int i = 1; i < v.length; i++) {
            if (v[i] < m || Float.isNaN(v[i])) {
                m = v[i];
            }
        }
        return m;
    }

    public static float max(float[] v) {
        float m = v[0];
        for (int i = 1; i < v.length; i++) {
            if (v[i] > m || Float.isNaN(v[i])) {
                m = v[i];
            }
        }
        return m;
    }
}
