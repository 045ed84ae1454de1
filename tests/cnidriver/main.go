// SPDX-License-Identifier: MIT
//
// cnidriver - a container runtime's view of roost: it drives a conflist
// through Debian's libcni (github.com/containernetworking/cni/libcni), the
// library containerd and CRI-O are built on, exactly as they call plugins.
//
//	cnidriver add|check|del CONFLIST CONTAINERID NETNS IFNAME
//
// Plugins are looked up in $CNI_PATH; libcni's result cache goes to
// $CNI_CACHE_DIR (required, so the machine's /var/lib/cni is never used).
// add prints the result libcni parsed. Exit 0 on success, 1 with libcni's
// error on stderr otherwise.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: cnidriver add|check|del CONFLIST CONTAINERID NETNS IFNAME")
		os.Exit(2)
	}
	verb, file, id, netns, ifname := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	cache := os.Getenv("CNI_CACHE_DIR")
	if cache == "" || !filepath.IsAbs(cache) {
		fmt.Fprintln(os.Stderr, "cnidriver: set CNI_CACHE_DIR to an absolute scratch folder")
		os.Exit(2)
	}
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cnidriver: %s: %v\n", file, err)
		os.Exit(1)
	}
	cni := libcni.NewCNIConfigWithCacheDir(strings.Split(os.Getenv("CNI_PATH"), ":"), cache, nil)
	rt := &libcni.RuntimeConf{
		ContainerID: id,
		NetNS:       netns,
		IfName:      ifname,
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", "default"},
			{"K8S_POD_NAME", id},
			{"K8S_POD_INFRA_CONTAINER_ID", id},
		},
	}
	ctx := context.Background()
	switch verb {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cnidriver: AddNetworkList: %v\n", err)
			os.Exit(1)
		}
		out, _ := json.Marshal(res)
		fmt.Println(string(out))
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fmt.Fprintf(os.Stderr, "cnidriver: CheckNetworkList: %v\n", err)
			os.Exit(1)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fmt.Fprintf(os.Stderr, "cnidriver: DelNetworkList: %v\n", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "cnidriver: unknown verb %q\n", verb)
		os.Exit(2)
	}
}
