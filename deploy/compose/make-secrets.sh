#!/bin/sh
# Makes ./secrets for compose.yaml: random passwords, the URLs built from them, Orchestra's secret key and
# metrics token, RabbitMQ's user and Keycloak's first administrator. Existing files are kept, so running it
# again never changes a password a data volume already holds. Needs openssl.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
random() { openssl rand -hex 24; }
keep() { [ -s "secrets/$1" ] || { printf '%s' "$2" > "secrets/$1"; echo "made secrets/$1"; }; }

keep postgres_password "$(random)"
keep orchestra_owner_password "$(random)"
keep orchestra_svc_password "$(random)"
keep rabbitmq_password "$(random)"
keep keycloak_admin_password "$(random)"
keep grafana_admin_password "$(random)"
keep secret_key "$(openssl rand -base64 32)"
keep metrics_token "$(random)"

keep migration_database_url \
    "postgresql://orchestra_owner:$(cat secrets/orchestra_owner_password)@postgres:5432/orchestra"
keep database_url "postgresql://orchestra_svc:$(cat secrets/orchestra_svc_password)@postgres:5432/orchestra"
keep broker_url "amqp://orchestra:$(cat secrets/rabbitmq_password)@rabbitmq:5672/?reconnect_interval=1"
keep rabbitmq.conf "default_user = orchestra
default_pass = $(cat secrets/rabbitmq_password)
"
keep keycloak.env "KC_BOOTSTRAP_ADMIN_USERNAME=admin
KC_BOOTSTRAP_ADMIN_PASSWORD=$(cat secrets/keycloak_admin_password)
"
# The containers run as other users than the one running Compose: they must be able to read the files.
chmod 0644 secrets/*
