# shellcheck shell=bash
# Sourced (not executed: the file is not executable) by the mariadb image's entrypoint on
# the first start with an empty data volume: the two schemas of the mesh and the services'
# user, as scripts/devstack/stack.py creates them locally. docker_process_sql comes from
# the entrypoint and runs the statements as root against the initialising server.
afirgen_password=${AFIRGEN_MYSQL_PASSWORD:?AFIRGEN_MYSQL_PASSWORD is not set}
afirgen_password=${afirgen_password//\\/\\\\}
afirgen_password=${afirgen_password//\'/\\\'}
docker_process_sql --database=mysql <<SQL
CREATE DATABASE IF NOT EXISTS \`fir\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS \`jobs\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'afirgen'@'%' IDENTIFIED BY '${afirgen_password}';
GRANT ALL PRIVILEGES ON \`fir\`.* TO 'afirgen'@'%';
GRANT ALL PRIVILEGES ON \`jobs\`.* TO 'afirgen'@'%';
GRANT ALL PRIVILEGES ON \`afirgen\\_scratch%\`.* TO 'afirgen'@'%';
SQL
unset afirgen_password
