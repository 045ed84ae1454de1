// SPDX-License-Identifier: MIT
// openapi-pb: converts a Kubernetes OpenAPI v2 document (swagger.json) into
// the protocol buffer encoding that the API server serves at /openapi/v2
// and kubectl asks for (application/com.github.proto-openapi.spec.v2@v1.0+protobuf),
// with gnostic, the library Kubernetes itself uses for it. The stand-in
// (tests/k8s/apiserver.py --openapi-v2) serves the result, so kubectl's
// client-side validation (--validate=strict) checks manifests against a
// real published schema.
//
//	openapi-pb SWAGGER.json OUT.pb
package main

import (
	"fmt"
	"os"

	"github.com/golang/protobuf/proto"
	openapi_v2 "github.com/googleapis/gnostic/openapiv2"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: openapi-pb SWAGGER.json OUT.pb")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	doc, err := openapi_v2.ParseDocument(in)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	out, err := proto.Marshal(doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
