#!/bin/sh
# certs.sh DIR - certificates for the TLS tests, made with the openssl CLI.
#
# Writes into DIR (created if needed):
#   ca.pem ca.key                     a test CA (trust it with --cafile DIR/ca.pem)
#   other-ca.pem other-ca.key         a second CA that signed nothing (an untrusted CA)
#   good.pem good.key                 CN=localhost, SAN localhost, 127.0.0.1, ::1; signed by the CA
#   wrong.pem wrong.key               SAN wrong.example only; signed by the CA
#   expired.pem expired.key           SAN localhost etc.; valid 2020-01-01..2020-01-02; signed by the CA
#   selfsigned.pem selfsigned.key     SAN localhost etc.; signed by itself
#   capath/                           ca.pem under its subject hash (for --capath)
#   good.pin                          base64 SHA-256 of good.pem's SubjectPublicKeyInfo
#   other.pin                         the same for wrong.pem (a pin that does not match good)
# and prints the good certificate's pin on stdout.
#
# Keys are ECDSA P-256: quick to make, so each test run makes fresh ones.
# The expired certificate comes from `openssl ca -startdate/-enddate`,
# which OpenSSL 3.0 has (x509 -not_before arrived only in 3.4).
set -eu

dir=${1:?usage: certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# --- the CA ---
key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=smtpc test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem
key other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days 3650 -subj "/CN=smtpc other CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out other-ca.pem

cat > leaf.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EOF
sed 's/^subjectAltName=.*/subjectAltName=DNS:wrong.example/' leaf.ext > wrong.ext

# sign NAME CN EXTFILE: NAME.key + NAME.pem signed by the CA for 825 days
sign() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -sha256 -days 825 -extfile "$3" -out "$1.pem" 2>/dev/null
}
sign good localhost leaf.ext
sign wrong wrong.example wrong.ext

# --- expired: a minimal `openssl ca` setup, only for its -startdate/-enddate ---
key expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
mkdir -p ca.db
: > ca.db/index.txt
echo 1000 > ca.db/serial
cat > ca.cnf <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $PWD/ca.db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $PWD/ca.pem
private_key = $PWD/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
EOF
openssl ca -batch -notext -config ca.cnf -extfile leaf.ext \
    -startdate 20200101000000Z -enddate 20200102000000Z \
    -in expired.csr -out expired.pem 2>/dev/null

# --- self-signed, for the right name ---
key selfsigned.key
openssl req -x509 -new -key selfsigned.key -sha256 -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -out selfsigned.pem

# --- capath: the CA under its OpenSSL subject hash ---
mkdir -p capath
cp ca.pem "capath/$(openssl x509 -in ca.pem -noout -subject_hash).0"

# --- pins ---
pin() {
    openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | openssl base64 -A
}
pin good.pem > good.pin
pin wrong.pem > other.pin
echo >> good.pin
echo >> other.pin
rm -f ./*.csr
cat good.pin
