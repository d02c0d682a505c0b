#!/usr/bin/env bash
# Downloads, unchanged, the import closure of Envoy's envoy/service/ratelimit/v3/rls.proto into .envoy-api/
# (each file at the commit it was checked with), for proto-check.csproj. Needs network access to GitHub.
set -euo pipefail
cd "$(dirname "$0")"
out=.envoy-api
# import path | repository | commit | path in the repository
while IFS='|' read -r import repo commit path; do
  [ -z "$import" ] && continue
  mkdir -p "$out/$(dirname "$import")"
  curl -fsSL "https://raw.githubusercontent.com/$repo/$commit/$path" -o "$out/$import"
  echo "$import"
done <<'LIST'
envoy/service/ratelimit/v3/rls.proto|envoyproxy/envoy|067eed6740968f3ff16e50b22ad772a1bc0695d8|api/envoy/service/ratelimit/v3/rls.proto
envoy/extensions/common/ratelimit/v3/ratelimit.proto|envoyproxy/envoy|75fb1f6a4d3281a37c7faea01a6d2539c3847a4d|api/envoy/extensions/common/ratelimit/v3/ratelimit.proto
envoy/config/core/v3/base.proto|envoyproxy/envoy|d65a4a5d0f6b63d76208164752d1d82ba8b3d5f5|api/envoy/config/core/v3/base.proto
envoy/config/core/v3/address.proto|envoyproxy/envoy|0328155467c97e5c31f3dbee1dc7212d8375212e|api/envoy/config/core/v3/address.proto
envoy/config/core/v3/backoff.proto|envoyproxy/envoy|040783c8c0b423531a51d33f2d4765ca3de0d96e|api/envoy/config/core/v3/backoff.proto
envoy/config/core/v3/http_uri.proto|envoyproxy/envoy|121d711b7cab1badab3b814132f311a1d9089bd3|api/envoy/config/core/v3/http_uri.proto
envoy/config/core/v3/extension.proto|envoyproxy/envoy|4a2fedabbb9418939f70ddc82995d805443a7dbc|api/envoy/config/core/v3/extension.proto
envoy/config/core/v3/socket_option.proto|envoyproxy/envoy|6769170469e5f2a60083340c358e63ef94b4466a|api/envoy/config/core/v3/socket_option.proto
envoy/type/v3/percent.proto|envoyproxy/envoy|6ac3bc6ef6b86a907b5d4f7c3524a1472cd9f63b|api/envoy/type/v3/percent.proto
envoy/type/v3/ratelimit_unit.proto|envoyproxy/envoy|84d28cbfe7b0aeaf0996caa6cfc685103279c1f4|api/envoy/type/v3/ratelimit_unit.proto
envoy/type/v3/semantic_version.proto|envoyproxy/envoy|8b9304c63c5ccec2ed2c4c55cd9fafb91a0c4d43|api/envoy/type/v3/semantic_version.proto
envoy/type/v3/token_bucket.proto|envoyproxy/envoy|25560af46e75dc67cb71e67549b8ae6c8f74a1c1|api/envoy/type/v3/token_bucket.proto
envoy/annotations/deprecation.proto|envoyproxy/envoy|8b9304c63c5ccec2ed2c4c55cd9fafb91a0c4d43|api/envoy/annotations/deprecation.proto
udpa/annotations/status.proto|cncf/xds|ec219e51c2fd8d4f68d56d5c1885f94e834088fe|udpa/annotations/status.proto
udpa/annotations/migrate.proto|cncf/udpa|23fe375817acfe6a017dae142cc1227e816391ab|udpa/annotations/migrate.proto
udpa/annotations/versioning.proto|envoyproxy/java-control-plane|5c734c2176a7d078a8b83a51b3bd4a9e344f5bca|api/src/main/proto/udpa/annotations/versioning.proto
xds/core/v3/context_params.proto|cncf/xds|a79492a045e493111370eea00186ca9fada387fa|xds/core/v3/context_params.proto
xds/annotations/v3/status.proto|cncf/xds|07e931387f979be7d524fdd4f475ea27e6c9309b|xds/annotations/v3/status.proto
validate/validate.proto|bufbuild/protoc-gen-validate|8ecc69f106559835754ade090a691da2e0bceb4b|validate/validate.proto
LIST
