/* Soft back end: transcendental operations (interim: delegates to the
 * host back end where there is one). */
#include "cpu/fpu_impl.h"

#if KESTREL_HOST_X87
F80 soft_sin(FpCtx *x, F80 a) { return host_sin(x, a); }
F80 soft_cos(FpCtx *x, F80 a) { return host_cos(x, a); }
void soft_sincos(FpCtx *x, F80 a, F80 *s, F80 *c) { host_sincos(x, a, s, c); }
F80 soft_tan(FpCtx *x, F80 a) { return host_tan(x, a); }
F80 soft_atan(FpCtx *x, F80 y, F80 a) { return host_atan(x, y, a); }
F80 soft_2xm1(FpCtx *x, F80 a) { return host_2xm1(x, a); }
F80 soft_yl2x(FpCtx *x, F80 y, F80 a) { return host_yl2x(x, y, a); }
F80 soft_yl2xp1(FpCtx *x, F80 y, F80 a) { return host_yl2xp1(x, y, a); }
#endif
