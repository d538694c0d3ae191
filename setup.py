"""Build hook for the one compiled part: streaming._fastsend (sendmmsg for the fan-out).

Everything else is in pyproject.toml. The extension is optional: where it cannot be built (no
compiler, no sendmmsg) the install still succeeds and the media plane sends with ``sendto``
(streaming/send_backend.py says which at start-up and in /metrics).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "streaming._fastsend",
            sources=["streaming/_fastsend.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        )
    ]
)
