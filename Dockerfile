# gl-csm's container image: what the CI/CD components' jobs run in (templates/*.yml,
# input `image`) and what `gl-csm serve` runs as a service. Built by gl-csm's own
# pipeline from the wheel it just built (.gitlab-ci.yml, jobs build-wheel, build-image):
#   docker build --build-arg WHEEL=dist/gl_csm-0.2.0-py3-none-any.whl -t gl-csm:0.2.0 .
FROM python:3.11-slim

ARG WHEEL
COPY ${WHEEL} /tmp/
# git: the jobs' checkout tooling; no compiler or cache left in the image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir /tmp/*.whl \
    && rm -f /tmp/*.whl \
    && gl-csm --version

# No ENTRYPOINT: GitLab CI runs each job's script in a shell in this image. Runs as root
# like GitLab's CI images (the job writes its outputs into the runner's checkout); for
# `gl-csm serve` as a service, run it with `--user 10001` and a secret from the
# environment (GL_CSM_WEBHOOK_SECRET, GITLAB_TOKEN).
EXPOSE 8080
CMD ["gl-csm", "--help"]
