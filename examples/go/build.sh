#!/usr/bin/env bash
# Build the Go example offline with Debian's Go toolchain and protobuf/gRPC packages:
#   apt-get install golang-go golang-google-protobuf-dev golang-google-grpc-dev \
#     protoc-gen-go protoc-gen-go-grpc protobuf-compiler
# Stubs are generated from ../../protos (their go_package is rooms/gen/go/rooms/v1) into
# a GOPATH workspace in .gopath/, next to the Debian packages in /usr/share/gocode, and
# the example is built in GOPATH mode: nothing is downloaded. Output: bin/rooms-go-example.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../protos" && pwd)
work="$here/.gopath"
rm -rf "$work"
mkdir -p "$work/src/rooms/example" "$here/bin"
protoc -I"$protos" --go_out="$work/src" --go-grpc_out="$work/src" "$protos"/rooms/v1/*.proto
cp "$here/main.go" "$work/src/rooms/example/"
GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="$here/.cache" GOFLAGS= \
  go build -o "$here/bin/rooms-go-example" rooms/example
echo "built $here/bin/rooms-go-example"
