#!/usr/bin/env bash
# The main job: build, start the project's own PostgreSQL and three silo processes with the dashboard,
# run the guided tour, and keep the cluster up until Ctrl-C (which stops everything it started).
# Extra arguments go to `Client up`, e.g. ./run.sh --silos 5 --no-tour
set -euo pipefail
cd "$(dirname "$0")"
dotnet build orleans.sln -c Release -nologo -v quiet -clp:NoSummary
exec dotnet Client/bin/Release/net10.0/Client.dll up "$@"
