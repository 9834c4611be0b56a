// A TLS client in Go, for the tls protocol's scoreboard: crypto/tls as Go programs use
// it, or net/http's default client, whose transport gives a handshake 10 s
// (DefaultTransport's TLSHandshakeTimeout, net/http/transport.go).
//
//	go run tls_client.go tls|http HOST PORT SECONDS
//
// Prints "handshake done" or "ENDED error" when it ends, or "STILL WAITING" once SECONDS
// have passed.
package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	mode, host, port := os.Args[1], os.Args[2], os.Args[3]
	seconds, _ := strconv.Atoi(os.Args[4])
	config := &tls.Config{InsecureSkipVerify: true}
	done := make(chan string, 1)
	go func() {
		address := host + ":" + port
		if mode == "http" {
			http.DefaultTransport.(*http.Transport).TLSClientConfig = config
			response, err := http.Get("https://" + address + "/")
			if err != nil {
				done <- "ENDED " + err.Error()
				return
			}
			done <- fmt.Sprintf("ENDED status %d", response.StatusCode)
			return
		}
		conn, err := tls.Dial("tcp", address, config)
		if err != nil {
			done <- "ENDED " + err.Error()
			return
		}
		conn.Close()
		done <- "handshake done"
	}()
	select {
	case outcome := <-done:
		fmt.Println(outcome)
	case <-time.After(time.Duration(seconds) * time.Second):
		fmt.Println("STILL WAITING")
	}
}
