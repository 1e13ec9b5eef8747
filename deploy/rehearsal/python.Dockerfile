# Stand-in for the official python:3.11-slim-bookworm image, for the container rehearsal
# (deploy/rehearse-containers.sh) on machines that reach no image registry. Built FROM a
# Debian bookworm minbase made locally with debootstrap, it offers what deploy/Dockerfile
# expects of the official image: `python` and `pip` on PATH, installs that need no
# --break-system-packages, the C headers for the native kernel, and apt-get.
#
# The build context is made by the script: this file plus extra-ca/, the certificate
# authorities the host trusts locally (its /usr/local/share/ca-certificates, often empty), so
# that apt and pip inside the builds pass a TLS-inspecting proxy the host itself trusts.
# Certificates only, never keys; the official image has none of them.
ARG DEBIAN_IMAGE=arbees-rehearsal/debian:bookworm
FROM ${DEBIAN_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY extra-ca/ /usr/local/share/ca-certificates/
WORKDIR /tmp

# Debian's Python 3.11 in a virtual environment at /usr/local/python (Debian's own
# interpreter refuses pip installs into /usr, PEP 668). Of the -dev package only the C
# headers are taken (as on the official image): its dependencies (libc6-dev, a static
# libpython) would add 50 MB to every image built on this one. The standard library keeps
# its compiled bytecode (as on the official image): without it every `python` run, such as
# each health check, compiles the modules it imports again. The wheels that created the
# virtual environment are removed once it exists.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv \
    && apt-get download libpython3.11-dev \
    && dpkg-deb --fsys-tarfile libpython3.11-dev_*.deb \
       | tar -x -C / ./usr/include/python3.11 ./usr/include/x86_64-linux-gnu/python3.11 \
    && rm libpython3.11-dev_*.deb \
    && python3 -m venv /usr/local/python \
    && apt-get purge -y --auto-remove python3-venv python3-pip-whl python3-setuptools-whl \
    && update-ca-certificates \
    && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >/etc/pip.conf \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

WORKDIR /
ENV PATH=/usr/local/python/bin:$PATH \
    LANG=C.UTF-8
CMD ["python3"]
