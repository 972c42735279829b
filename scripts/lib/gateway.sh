# The web gateway beside the stack (sourced after scripts/lib/stack.sh; used by
# scripts/demo and scripts/tests/gateway-browser): a node's HTTPS site
# (tools/node_site.py with the certificate `onebz cert` makes from the node's key), the
# gateway's own certificate, and onebz-web resolving through onebzd with onebzd's DS as
# its only trust anchor (docs/gateway.md, "onebz-web, the web gateway").
#   gateway_certificate DIR DOMAIN            # sets gateway_ca, gateway_cert, gateway_key
#   gateway_zone DIR DOMAIN ADDRESS           # onebzd's [[zones]] entry for DOMAIN: gateway_zone_toml,
#                                             #   gateway_tsig_file (the ACME client's key), gateway_zone_ds
#   acme_certificate DIR DOMAIN DNS_PORT      # as gateway_certificate, from a local Pebble by DNS-01
#   spki_sha256 CERT                          # base64 SHA-256 of CERT's SubjectPublicKeyInfo
#   start_node_site NAME KEY PORT LABEL DIR [NODE_ID]   # $site_LABEL_pid
#   wait_tlsa NAME PORT DNS_PORT              # until onebzd serves _PORT._tcp.NAME TLSA
#   start_web_gateway PORT DOMAIN DNS_PORT ANCHOR [ONEBZ_WEB_ARGS...]   # $onebz_web_pid
# Needs: openssl, curl, dig, python3; $bin_dir (build_binaries) and $top; gateway_zone and
# acme_certificate also tsig_keygen/tsig_read (scripts/lib/secondaries.sh), pebble and lego.

# gateway_certificate DIR DOMAIN: the certificate onebz-web presents for `*.DOMAIN` and
# `DOMAIN`, signed by a local CA (the PEM a client must trust: $gateway_ca). Both keys are
# kept across runs, so a browser or curl told to trust them keeps working; the leaf is
# reissued when missing, for another domain, or within a day of expiry. This is the one
# step an ACME client (DNS-01 through RFC 2136 against a local Pebble) would replace.
gateway_certificate() {
  local dir=$1 domain=$2 ca_key=$1/gateway-ca-key.pem
  gateway_ca=$dir/gateway-ca.pem gateway_cert=$dir/gateway-cert.pem gateway_key=$dir/gateway-key.pem
  mkdir -p "$dir"
  if [ ! -s "$gateway_ca" ] || [ ! -s "$ca_key" ]; then
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=onebz demo gateway CA" -keyout "$ca_key" -out "$gateway_ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null) \
      || { log "openssl could not make the gateway CA in $dir"; exit 1; }
    rm -f "$gateway_cert"
  fi
  if [ -s "$gateway_cert" ] && [ -s "$gateway_key" ] \
    && openssl x509 -in "$gateway_cert" -noout -checkend 86400 >/dev/null 2>&1 \
    && openssl x509 -in "$gateway_cert" -noout -checkhost "x.$domain" 2>/dev/null | grep -q "does match" \
    && openssl verify -CAfile "$gateway_ca" "$gateway_cert" >/dev/null 2>&1; then
    return 0
  fi
  [ -s "$gateway_key" ] || (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$gateway_key")
  local csr=$dir/gateway.csr ext=$dir/gateway.ext
  openssl req -new -key "$gateway_key" -subj "/CN=*.$domain" -out "$csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:*.$domain,DNS:$domain" >"$ext"
  openssl x509 -req -in "$csr" -CA "$gateway_ca" -CAkey "$ca_key" -CAcreateserial -days 365 \
    -extfile "$ext" -out "$gateway_cert" 2>/dev/null \
    || { log "openssl could not sign the gateway certificate"; exit 1; }
  rm -f "$csr" "$ext" "$dir/gateway-ca.srl"
}

# gateway_zone DIR DOMAIN ADDRESS: the gateway's own zone, served and signed by onebzd
# (`[[zones]]`, docs/dns.md "More zones"): DOMAIN and every name below it at ADDRESS (a
# wildcard), its DNSSEC key (kept across runs, so its DS stays valid) and the TSIG key an
# ACME client signs its `_acme-challenge` updates with (RFC 2136). Sets gateway_zone_toml
# (the [[zones]] table), gateway_tsig_file (for [transfer] tsig_key_files: update keys
# are read from there) and gateway_zone_ds (the DS to give the parent).
gateway_zone() {
  local dir=$1 domain=$2 address=$3
  mkdir -p "$dir"
  cat >"$dir/$domain.zone" <<ZONE
\$ORIGIN $domain.
\$TTL 300
@   IN SOA ns1.$domain. hostmaster.$domain. 1 3600 600 86400 60
@   IN NS  ns1.$domain.
ns1 IN A   $address
@   IN A   $address
*   IN A   $address
ZONE
  if ! ls "$dir/keys"/K"$domain".+*.private >/dev/null 2>&1; then
    "$bin_dir/onebzd" dnssec keygen --key-dir "$dir/keys" --apex "$domain." >/dev/null
  fi
  gateway_zone_ds=$("$bin_dir/onebzd" dnssec ds --key-dir "$dir/keys" --apex "$domain.")
  gateway_tsig_file=$dir/acme-tsig.key
  [ -s "$gateway_tsig_file" ] || tsig_keygen acme-key. "$gateway_tsig_file"
  chmod 600 "$gateway_tsig_file"
  local keys
  keys=$(printf '"%s", ' "$dir/keys"/K"$domain".+*.private)
  gateway_zone_toml=$(printf '[[zones]]\norigin = "%s."\nfile = "%s"\ndnssec_key_files = [%s]\nupdate_keys = ["acme-key."]\n' \
    "$domain" "$dir/$domain.zone" "${keys%, }")
}

# acme_certificate DIR DOMAIN DNS_PORT: what gateway_certificate makes, from an ACME CA
# instead: a local Pebble (the ACME test server) on free loopback ports, asking onebzd on
# DNS_PORT for its DNS-01 checks; lego writes the challenge into the gateway zone by RFC
# 2136 signed with $gateway_tsig_file (gateway_zone first) and asks nothing but onebzd.
# Pebble stops once the certificate is issued; $gateway_ca is its root (a new one each
# run: Pebble makes its CA at start). Sets gateway_ca, gateway_cert, gateway_key.
acme_certificate() {
  local dir=$1 domain=$2 dns_port=$3 acme mgmt
  mkdir -p "$dir"
  acme=$(free_port); mgmt=$(free_port)
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/pebble-key.pem" -out "$dir/pebble-cert.pem" 2>/dev/null)
  printf '{"pebble": {"listenAddress": "127.0.0.1:%s", "managementListenAddress": "127.0.0.1:%s",
    "certificate": "%s", "privateKey": "%s", "httpPort": %s, "tlsPort": %s,
    "ocspResponderURL": "", "externalAccountBindingRequired": false}}\n' \
    "$acme" "$mgmt" "$dir/pebble-cert.pem" "$dir/pebble-key.pem" "$(free_port)" "$(free_port)" >"$dir/pebble.json"
  start pebble env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    pebble -config "$dir/pebble.json" -dnsserver "127.0.0.1:$dns_port"
  wait_ready pebble curl -sf -o /dev/null --cacert "$dir/pebble-cert.pem" "https://localhost:$acme/dir"
  tsig_read "$gateway_tsig_file"
  rm -rf "$dir/lego"
  # *.DOMAIN and DOMAIN share one challenge name: lego waits RFC2136_SEQUENCE_INTERVAL between them.
  if ! HOME=$dir LEGO_CA_CERTIFICATES=$dir/pebble-cert.pem RFC2136_NAMESERVER=127.0.0.1:$dns_port \
    RFC2136_TSIG_KEY=$tsig_name RFC2136_TSIG_SECRET=$tsig_secret RFC2136_TSIG_ALGORITHM=hmac-sha256. \
    RFC2136_PROPAGATION_TIMEOUT=30 RFC2136_POLLING_INTERVAL=1 RFC2136_SEQUENCE_INTERVAL=1 \
    lego --server "https://localhost:$acme/dir" --accept-tos --email "ops@$domain" --path "$dir/lego" \
      --dns rfc2136 --dns.resolvers "127.0.0.1:$dns_port" --dns.disable-cp --key-type ec256 \
      -d "*.$domain" -d "$domain" run >"$stack_state/lego.log" 2>&1; then
    log "lego could not get a certificate from Pebble (log: ${stack_state#"$top"/}/lego.log)"
    tail -n 20 "$stack_state/lego.log" >&2
    exit 1
  fi
  curl -sf --cacert "$dir/pebble-cert.pem" "https://localhost:$mgmt/roots/0" >"$dir/pebble-root.pem"
  stop_pid "$pebble_pid"
  gateway_ca=$dir/pebble-root.pem gateway_cert=$dir/lego/certificates/_.$domain.crt
  gateway_key=$dir/lego/certificates/_.$domain.key
  log "certificate for *.$domain from Pebble by DNS-01 through onebzd (RFC 2136): $gateway_cert"
}

# spki_sha256 CERT: what Chromium's --ignore-certificate-errors-spki-list takes (and curl's
# --pinnedpubkey sha256//...).
spki_sha256() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64
}

# start_node_site NAME KEY PORT LABEL DIR [NODE_ID]: `onebz cert` for KEY into DIR, then
# tools/node_site.py serving HTTPS on 127.0.0.1:PORT with it; ready once it accepts
# connections (no request: a test counts the requests a site gets).
start_node_site() {
  local name=$1 key=$2 port=$3 label=$4 dir=$5 node_id=${6:-}
  "$bin_dir/onebz" cert --key "$key" --name "$name" --out "$dir" >/dev/null
  start "site-$label" python3 "$top/tools/node_site.py" --listen "127.0.0.1:$port" \
    --cert "$dir/cert.pem" --key "$dir/key.pem" --label "$label" ${node_id:+--node-id "$node_id"}
  wait_ready "site-$label" port_busy "$port"
}

# wait_tlsa NAME PORT DNS_PORT: onebzd serves the node's TLSA (from its signed record).
wait_tlsa() {
  wait_ready "the TLSA of $1" sh -c "dig @127.0.0.1 -p $3 +short +time=2 +tries=1 _$2._tcp.$1 TLSA | grep -q ."
}

# start_web_gateway PORT DOMAIN DNS_PORT ANCHOR [ARGS...]: onebz-web over HTTPS (HTTP/2
# and HTTP/1.1) on 127.0.0.1:PORT with $gateway_cert, validating from ANCHOR (onebzd's DS)
# through onebzd on DNS_PORT, allowed to reach loopback nodes; ready once /healthz answers
# on the bare domain over TLS checked against $gateway_ca.
start_web_gateway() {
  local port=$1 domain=$2 dns_port=$3 anchor=$4; shift 4
  start onebz-web "$bin_dir/onebz-web" --listen "127.0.0.1:$port" --domain "$domain" \
    --resolver "127.0.0.1@$dns_port" --trust-anchor "$anchor" --tls-cert "$gateway_cert" --tls-key "$gateway_key" \
    --allow-loopback-nodes --access-log "$stack_state/onebz-web-access.log" "$@"
  wait_ready onebz-web curl -sf -o /dev/null --cacert "$gateway_ca" --resolve "$domain:$port:127.0.0.1" \
    "https://$domain:$port/healthz"
}
