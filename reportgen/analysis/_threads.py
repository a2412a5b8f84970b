"""One thread for the analysis' small fits: their linear algebra is on tiny matrices.

An ETS forecast is fitted on a metric's year of weeks (a few dozen values) by
L-BFGS-B, hundreds of small LAPACK/BLAS calls per fit; the deep dive's k-means
runs ten starts for each k on a few dozen sites. OpenBLAS (and scikit-learn's
OpenMP) keep a thread per core ready for every call; on problems this small,
waking and synchronising them costs far more than the arithmetic. On the 2-core
build machine the 11 forecasts of the weekly report took 0.99 s with two BLAS
threads and 0.14 s with one, and the k-means of the analyst edition 1.0 s
against 0.13 s; the gap grows when other processes compete for the cores.

Only where the results were checked to be the same: the forecasts and the
k-means assignments (every figure of the demo reports byte-identical either
way). The deep dive's logit fit is not wrapped: its standard errors move in the
16th digit with the thread count, and the report keeps the arithmetic it had.

The limit is restored on exit; nothing outside the block is affected.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS (OpenBLAS, MKL) limited to one thread inside the block, as before after it.

    It reaches the libraries loaded when the block starts: enter it after importing
    the library that does the fitting (SciPy's OpenBLAS is loaded with SciPy).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS and OpenMP (scikit-learn's k-means) limited to one thread inside the block."""
    with threadpool_limits(limits=1):
        yield
