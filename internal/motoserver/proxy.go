package motoserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// serial proxies to moto one request at a time. moto_server serves
// requests on threads without making what AWS makes atomic atomic:
//
//   - DynamoDB: two concurrent PutItem calls conditional on
//     attribute_not_exists can both succeed;
//   - S3: PutObject checks If-Match / If-None-Match, then writes, so two
//     conditional writes over one version can both succeed;
//   - SQS: two concurrent ReceiveMessage calls can both deliver the same
//     message, and a FIFO group's messages to two consumers.
//
// The proxy restores the guarantee by passing one request at a time;
// without it, tests of races would test moto's threading, not strata.
// An SQS long poll (ReceiveMessage with WaitTimeSeconds) would then hold
// every other request up for its whole wait, so the proxy turns it into
// short polls, one at a time like everything else, repeated until a
// message comes or the wait is over; a poll runs again as soon as another
// request went through (it may have sent or released a message), else
// every pollEvery.
type serial struct {
	target *url.URL
	proxy  *httputil.ReverseProxy
	client *http.Client

	mu      sync.Mutex // held while a request is at moto
	changed chan struct{}
	chMu    sync.Mutex
}

// pollEvery bounds how long a long poll waits between short polls when no
// other request comes through: messages also become visible by time.
const pollEvery = 100 * time.Millisecond

func newSerial(target *url.URL) *serial {
	return &serial{
		target: target,
		proxy: &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				// Keep the Host the SDK signed and moto reads buckets from.
				r.Out.Host = r.In.Host
			},
			// A client that gave up (a cancelled context) is no error of
			// the proxy's: answer without the default log line.
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				w.WriteHeader(http.StatusBadGateway)
				if r.Context().Err() == nil {
					fmt.Fprintf(w, "moto proxy: %v", err)
				}
			},
		},
		client:  &http.Client{},
		changed: make(chan struct{}),
	}
}

func (s *serial) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var in map[string]any
		if json.Unmarshal(body, &in) == nil {
			if wait, _ := in["WaitTimeSeconds"].(float64); wait > 0 {
				in["WaitTimeSeconds"] = 0
				short, _ := json.Marshal(in)
				s.longPoll(w, r, short, time.Duration(wait)*time.Second)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	s.mu.Lock()
	s.proxy.ServeHTTP(w, r)
	s.mu.Unlock()
	s.signal()
}

// signal wakes the long polls waiting for another request.
func (s *serial) signal() {
	s.chMu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.chMu.Unlock()
}

func (s *serial) waitChange() <-chan struct{} {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.changed
}

// longPoll short-polls with body until moto returns a message or wait is
// over, then answers with moto's last response.
func (s *serial) longPoll(w http.ResponseWriter, r *http.Request, body []byte, wait time.Duration) {
	deadline := time.Now().Add(wait)
	for {
		changed := s.waitChange()
		status, header, resp, err := s.once(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var out struct{ Messages []json.RawMessage }
		_ = json.Unmarshal(resp, &out)
		left := time.Until(deadline)
		if len(out.Messages) > 0 || status != http.StatusOK || left <= 0 {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			_, _ = w.Write(resp)
			return
		}
		t := time.NewTimer(min(left, pollEvery))
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// once sends one request to moto, holding the lock.
func (s *serial) once(in *http.Request, body []byte) (int, http.Header, []byte, error) {
	out, err := http.NewRequestWithContext(in.Context(), in.Method, s.target.JoinPath(in.URL.Path).String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	out.Header = in.Header.Clone()
	out.Host = in.Host
	out.ContentLength = int64(len(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, err := s.client.Do(out)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data, err
}
