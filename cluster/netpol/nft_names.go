package netpol

import (
	"crypto/sha256"
	"encoding/base32"
)

// objectName names a chain, set or counter of the table: the kind, a hash of key and
// key itself for people reading `nft list`, as kube-proxy names its chains. The hash
// keeps names unique when key is cut to fit nftables' 256-byte names (a namespace
// and a pod name may reach 317 bytes), and the names never need quoting: namespaces,
// pods and policies are DNS names, and only '/' joins them.
//
// salt tells apart objects of one key (a rule's peer sets for different ports) and
// enters the hash only.
func objectName(kind, key, salt string) string {
	sum := sha256.Sum256([]byte(kind + "/" + key + "\x00" + salt))
	name := kind + "-" + base32.StdEncoding.EncodeToString(sum[:])[:8] + "-" + key
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}
