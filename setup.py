"""Build hook for the compiled parts of the fan-out (issue 19).

``streaming._fastsend``: sendmmsg and the per-viewer loop. ``streaming._srtpgcm``: outbound SRTP
with AES-GCM through OpenSSL's libcrypto (its headers: Debian's libssl-dev). Everything else is in
pyproject.toml. Both are optional: where one cannot be built (no compiler, no sendmmsg, no
OpenSSL headers) the install still succeeds and the media plane sends with ``sendto`` or
protects with libsrtp (streaming/send_backend.py and streaming/srtp_choice.py say which at
start-up and in /metrics).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "streaming._fastsend",
            sources=["streaming/_fastsend.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        ),
        Extension(
            "streaming._srtpgcm",
            sources=["streaming/_srtpgcm.c"],
            libraries=["crypto"],
            optional=True,
            extra_compile_args=["-O2", "-Wall"],
        ),
    ]
)
