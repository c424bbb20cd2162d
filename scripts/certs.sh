#!/bin/sh
# certs.sh [DIR] [NODES...] writes a private CA and certificates for a local
# raftlock cluster into DIR (default ./certs), with openssl:
#
#   ca.pem, ca-key.pem            the CA (kept and reused when DIR has one)
#   NODE.pem, NODE-key.pem        per node (default n1 n2 n3): serverAuth and
#                                 clientAuth, SANs 127.0.0.1, ::1, localhost
#                                 and NODE; for --cert-file/--key-file and
#                                 --peer-cert-file/--peer-key-file
#   client.pem, client-key.pem    a client certificate (clientAuth), for
#                                 --cert/--key when nodes run with
#                                 --client-ca-file ca.pem
#
# Keys are EC P-256, mode 0600. Node and client certificates are valid for
# DAYS days (env, default 365), the CA for 10 years. Running it again renews
# the node and client certificates under the same CA; a running node picks
# them up within --cert-reload-interval, or at once on SIGHUP.
set -eu

dir=${1:-certs}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- n1 n2 n3
days=${DAYS:-365}

command -v openssl >/dev/null 2>&1 || { echo "certs.sh: openssl not found" >&2; exit 1; }
mkdir -p "$dir"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca-key.pem" ]; then
	newkey "$dir/ca-key.pem"
	openssl req -x509 -new -key "$dir/ca-key.pem" -sha256 -days 3650 \
		-subj "/CN=raftlock local CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-out "$dir/ca.pem"
	echo "certs.sh: wrote $dir/ca.pem"
fi

# issue NAME EXTENSIONS signs NAME.pem with the CA.
issue() {
	name=$1 ext=$2
	newkey "$dir/$name-key.pem"
	openssl req -new -key "$dir/$name-key.pem" -subj "/CN=$name" -out "$tmp/$name.csr"
	printf '%s\n' "$ext" >"$tmp/$name.ext"
	openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
		-extfile "$tmp/$name.ext" -out "$dir/$name.pem" 2>/dev/null
	chmod 644 "$dir/$name.pem"
	echo "certs.sh: wrote $dir/$name.pem and $dir/$name-key.pem"
}

for node in "$@"; do
	case $node in
	client | ca) echo "certs.sh: node name $node is taken by the $node certificate" >&2; exit 2 ;;
	esac
	issue "$node" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:$node"
done
issue client "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
chmod 644 "$dir/ca.pem"
