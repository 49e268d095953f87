#!/usr/bin/env bash
# Creates a development CA and certificates for pagehop's mTLS, for tests and for trying the
# Kubernetes manifests. NOT for production: the CA key sits next to the certificates.
#
#   deploy/tls/dev-ca.sh [--days N] [--san DNS:name|IP:addr]... OUT_DIR [NAME...]
#
# Writes OUT_DIR/ca.crt and ca.key (reused when present, so more certificates can be added later
# under the same CA), and for each NAME (default: source-agent target-agent cli) NAME.crt and
# NAME.key: EC P-256, key in PKCS#8 PEM (what Netty reads), usable as server *and* client
# certificate, with SANs NAME, pagehop-agent (the name the manifests verify, since DaemonSet pods
# are reached by IP), localhost, 127.0.0.1 and every --san.
#
# Kubernetes: deploy/k8s/README.md shows the `kubectl create secret` for the manifests.
set -euo pipefail
days=30
sans=()
while [ $# -gt 0 ]; do
  case "$1" in
    --days) days=$2; shift 2 ;;
    --san) sans+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*) echo "dev-ca: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "dev-ca: missing OUT_DIR (see --help)" >&2; exit 2; }
out=$1; shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(source-agent target-agent cli)
command -v openssl >/dev/null 2>&1 || { echo "dev-ca: openssl not found (apt-get install openssl)" >&2; exit 2; }
for san in "${sans[@]}"; do
  [[ "$san" =~ ^(DNS|IP):[^,[:space:]]+$ ]] || { echo "dev-ca: --san must be DNS:name or IP:address, got '$san'" >&2; exit 2; }
done
mkdir -p "$out"
umask 077

if [ ! -f "$out/ca.crt" ] || [ ! -f "$out/ca.key" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -subj "/O=pagehop/CN=pagehop development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.crt"
fi

for name in "${names[@]}"; do
  [[ "$name" =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || { echo "dev-ca: certificate name must be a DNS label, got '$name'" >&2; exit 2; }
  alt="DNS:$name,DNS:pagehop-agent,DNS:localhost,IP:127.0.0.1"
  for san in "${sans[@]}"; do alt="$alt,$san"; done
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$name.key" 2>/dev/null
  openssl req -new -key "$out/$name.key" -subj "/O=pagehop/CN=$name" -out "$out/$name.csr"
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -sha256 -days "$days" \
    -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$alt") \
    -out "$out/$name.crt" 2>/dev/null
  rm -f "$out/$name.csr"
done
rm -f "$out/ca.srl"
# The agents run as uid 65532 in the image: certificates and keys must be readable by it when
# mounted from the host (Kubernetes Secrets set their own modes).
chmod 644 "$out"/*.crt "$out"/*.key
chmod 600 "$out/ca.key"
echo "dev-ca: wrote $out/ca.crt and ${names[*]/%/.crt/.key} (valid $days days)"
