# Stand-in for the official redis image, for the container rehearsal
# (deploy/rehearse-containers.sh) on machines that reach no image registry: Debian bookworm's
# redis-server and redis-cli on the locally made minbase, with the official image's
# docker-entrypoint.sh contract (root -> the redis user). The compose file gives it its
# entrypoint (ACL file from the role secrets, then docker-entrypoint.sh), its command
# (`redis-server <mounted config>`) and its health check (`redis-cli ping`).
ARG DEBIAN_IMAGE=arbees-rehearsal/debian:bookworm
FROM ${DEBIAN_IMAGE}

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools \
    && mkdir -p /data /usr/local/etc/redis \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

COPY --chmod=0755 redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server", "--protected-mode", "no"]
