package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	cases := []struct {
		path, want string
		status     int
	}{
		{"/healthz", `{"status":"ok"}`, http.StatusOK},
		{"/hello?name=gopher", `{"greeting":"hello, gopher"}`, http.StatusOK},
		{"/hello", `{"greeting":"hello, world"}`, http.StatusOK},
		{"/nope", "404 page not found", http.StatusNotFound},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.want {
			t.Errorf("%s: got %d %q, want %d %q", c.path, rec.Code, rec.Body.String(), c.status, c.want)
		}
	}
}
