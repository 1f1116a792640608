# What hack/cluster (the control plane) and hack/kubelet-nodes (its kubelet nodes) share: the
# cluster's addresses, its PKI and kubeconfigs. Source it after lib.sh; do not run it.

PKI="$STATE/pki"
APISERVER_PORT="${LATTICE_APISERVER_PORT:-6443}"
SERVICE_CIDR="10.96.0.0/16"  # virtual: kube-proxy on the kubelet nodes makes it real there
# The cluster network (hack/kubelet-nodes): the host's bridge, one address per node. The apiserver
# and the registry listen on 127.0.0.1 only; the host forwards 198.18.128.1:6443 and :5001 there for
# what arrives on that bridge, and for nothing else (not the provider machines, hack/machines).
CLUSTER_BRIDGE=lattice-cluster   # not `lt-…`: the agent's pod-isolation rules match that prefix
CLUSTER_ADDRESS=198.18.128.1
CLUSTER_PREFIX=198.18.128        # node N: $CLUSTER_PREFIX.$((10 + N))
POD_CIDR=10.244.0.0/16           # node N: 10.244.N.0/24
APISERVER_SANS="IP:127.0.0.1,IP:$CLUSTER_ADDRESS,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"

# cert NAME CN [O] [SANS]: a key and a certificate signed by our CA (kept if present).
cert() {
  local name=$1 cn=$2 org=${3:-} sans=${4:-}
  [[ -f "$PKI/$name.crt" ]] && return 0
  local subj="/CN=$cn"; [[ -n "$org" ]] && subj="/O=$org$subj"
  local ext="$PKI/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$sans" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$sans"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  chmod 600 "$PKI/$name.key"
  rm -f "$PKI/$name.csr" "$ext"
}

# cert_covers NAME SANS: PKI/NAME.crt names every one of SANS (IP:x,DNS:y as cert takes them).
cert_covers() {
  local have san
  have=$(openssl x509 -in "$PKI/$1.crt" -noout -ext subjectAltName 2>/dev/null | tr -d ' ' | tr ',' '\n' | sed 's/^IPAddress:/IP:/')
  for san in ${2//,/ }; do
    grep -qxF "$san" <<<"$have" || return 1
  done
}

# kubeconfig FILE CERTNAME [SERVER]: a kubeconfig that authenticates with PKI/CERTNAME.{crt,key}.
kubeconfig() {
  local file=$1 name=$2 server=${3:-https://127.0.0.1:$APISERVER_PORT}
  # Written aside and renamed: running programs and tests read these files at any time.
  (umask 077 && cat >"$file.tmp") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lattice
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$name.crt")
    client-key-data: $(base64 -w0 <"$PKI/$name.key")
contexts:
- name: lattice
  context: {cluster: lattice, user: $name}
current-context: lattice
EOF
  mv -f "$file.tmp" "$file"
}
