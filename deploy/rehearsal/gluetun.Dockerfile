# Stand-in for the Gluetun image (qmcgaw/gluetun), for the container rehearsal
# (deploy/rehearse-containers.sh): arbees' fake Gluetun control server
# (arbees.testing.fake_gluetun) on :8000, from the arbees image itself. It reads the API key
# from the role file the compose file mounts for the real Gluetun
# (HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH) and exits in the first of SERVER_COUNTRIES.
# It tunnels nothing: in the rehearsal its network namespace has only a loopback interface.
ARG ARBEES_IMAGE=arbees:local
FROM ${ARBEES_IMAGE}

COPY gluetun_standin.py /opt/arbees-rehearsal/gluetun_standin.py

# Root, like Gluetun: the compose file mounts the role file mode 0400, owned by root.
# hadolint ignore=DL3002
USER 0:0
STOPSIGNAL SIGINT
HEALTHCHECK --interval=2s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/opt/arbees-rehearsal/gluetun_standin.py", "healthcheck"]
ENTRYPOINT ["python", "/opt/arbees-rehearsal/gluetun_standin.py"]
CMD ["serve"]
