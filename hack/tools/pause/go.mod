// The pause program of the kubelet nodes' pod sandboxes (hack/pause-image): no dependencies.
module lattice.dev/hack/tools/pause

go 1.24
