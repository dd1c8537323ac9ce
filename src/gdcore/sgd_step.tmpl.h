/*
 * The fused update rule over w[begin:end), one pass over memory.
 * Included once per dtype (GD_T, GD_SFX) in kernels.c; see gd_template.h.
 *
 * Each rule gets its own branch-free inner loop so the compiler vectorizes
 * it; every scalar is converted to GD_T once, so float32 arrays are updated
 * in float32 arithmetic (as NumPy and torch do for float32 tensors).
 */
static void GD_FN(sgd_step)(int64_t begin, int64_t end, GD_T *GD_RESTRICT w,
                            const GD_T *GD_RESTRICT g, GD_T *GD_RESTRICT v,
                            const gd_rule *rule, int64_t t, int first)
{
    const GD_T lr = (GD_T)rule->lr;
    const GD_T wd = (GD_T)rule->weight_decay;
    const GD_T m = (GD_T)rule->momentum;
    /* maximize flips the gradient's sign; folding it into a factor keeps one loop */
    const GD_T sg = rule->maximize ? (GD_T)-1 : (GD_T)1;
    int64_t i;

    if (rule->momentum == 0.0) {
        if (rule->weight_decay == 0.0) {
            const GD_T a = -lr * sg;
            GD_SIMD
            for (i = begin; i < end; i++) w[i] += a * g[i];
        } else {
            GD_SIMD
            for (i = begin; i < end; i++) {
                GD_T d = sg * g[i] + wd * w[i];
                w[i] -= lr * d;
            }
        }
        return;
    }

    if (!rule->ema) {
        const GD_T keep = (GD_T)1 - (GD_T)rule->dampening;
        if (first) {
            if (rule->nesterov) {
                GD_SIMD
                for (i = begin; i < end; i++) {
                    GD_T d = sg * g[i] + wd * w[i];
                    v[i] = d;
                    w[i] -= lr * (d + m * d);
                }
            } else {
                GD_SIMD
                for (i = begin; i < end; i++) {
                    GD_T d = sg * g[i] + wd * w[i];
                    v[i] = d;
                    w[i] -= lr * d;
                }
            }
        } else if (rule->nesterov) {
            GD_SIMD
            for (i = begin; i < end; i++) {
                GD_T d = sg * g[i] + wd * w[i];
                GD_T b = m * v[i] + keep * d;
                v[i] = b;
                w[i] -= lr * (d + m * b);
            }
        } else {
            GD_SIMD
            for (i = begin; i < end; i++) {
                GD_T d = sg * g[i] + wd * w[i];
                GD_T b = m * v[i] + keep * d;
                v[i] = b;
                w[i] -= lr * b;
            }
        }
        return;
    }

    /* EMA form: v starts at zero, so the first step is v = (1 - m) * d */
    {
        const GD_T om = (GD_T)1 - m;
        GD_T c = (GD_T)1;
        if (rule->debias) c = (GD_T)(1.0 - pow(rule->momentum, (double)t));
        const GD_T inv_c = (GD_T)1 / c;
        if (rule->nesterov) {
            GD_SIMD
            for (i = begin; i < end; i++) {
                GD_T d = sg * g[i] + wd * w[i];
                GD_T b = (first ? (GD_T)0 : m * v[i]) + om * d;
                v[i] = b;
                w[i] -= lr * (m * (b * inv_c) + om * d);
            }
        } else {
            GD_SIMD
            for (i = begin; i < end; i++) {
                GD_T d = sg * g[i] + wd * w[i];
                GD_T b = (first ? (GD_T)0 : m * v[i]) + om * d;
                v[i] = b;
                w[i] -= lr * (b * inv_c);
            }
        }
    }
}

static inline GD_T GD_FN(dot)(int64_t n, const GD_T *GD_RESTRICT x, const GD_T *GD_RESTRICT y)
{
    GD_T s = 0;
    int64_t i;
    GD_SIMD_SUM(s)
    for (i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}
