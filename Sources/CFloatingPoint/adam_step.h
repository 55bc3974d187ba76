/* Adam's step on 16 floats at once, for Swift: SIMD16<Float>.squareRoot() takes each
 * lane's square root in turn (a call to sqrtf per lane), and with it the compiler splits
 * the divisions around it into lanes too. Every operation here is the scalar rule's, in
 * its order, correctly rounded and not contracted into fused multiply-adds, so each lane
 * equals the scalar step to the bit. Static inline; nothing is linked. */
#ifndef BACKPROP_ADAM_STEP_H
#define BACKPROP_ADAM_STEP_H

typedef float bp_float16 __attribute__((ext_vector_type(16)));

/* 16 floats from p, which need no alignment. */
__attribute__((always_inline)) static inline bp_float16 bp_load16(const float *p)
{
    bp_float16 x;
    __builtin_memcpy(&x, p, sizeof x);
    return x;
}

__attribute__((always_inline)) static inline void bp_store16(float *p, bp_float16 x)
{
    __builtin_memcpy(p, &x, sizeof x);
}

/* On 16 parameters: g' = clip g + λ θ, m' = β1 m + (1 − β1) g', v' = β2 v + (1 − β2) g' g',
 * θ' = decay θ − η (m' / c1) / (√(v' / c2) + ε). `constants` holds clip, λ, β1, β2, c1, c2,
 * decay, η and ε, in that order; each other pointer 16 floats. */
__attribute__((always_inline)) static inline void bp_adam16(const float *constants, const float *theta_in,
                                                            const float *g_in, const float *m_in, const float *v_in,
                                                            float *next, float *m_next, float *v_next)
{
#pragma clang fp contract(off)
    const float clip = constants[0], l2 = constants[1], beta1 = constants[2], beta2 = constants[3];
    const float correction1 = constants[4], correction2 = constants[5], decay = constants[6], eta = constants[7];
    const float epsilon = constants[8];
    bp_float16 theta = bp_load16(theta_in);
    bp_float16 gi = clip * bp_load16(g_in) + l2 * theta;
    bp_float16 m_new = beta1 * bp_load16(m_in) + (1 - beta1) * gi;
    bp_float16 v_new = beta2 * bp_load16(v_in) + (1 - beta2) * gi * gi;
    bp_float16 m_hat = m_new / correction1, v_hat = v_new / correction2;
    bp_store16(m_next, m_new);
    bp_store16(v_next, v_new);
    bp_store16(next, decay * theta - eta * m_hat / (__builtin_elementwise_sqrt(v_hat) + epsilon));
}

#endif
