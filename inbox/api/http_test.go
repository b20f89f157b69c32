package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{name: "without trusted proxies the remote address is the client", remote: "198.51.100.7:5000", want: "198.51.100.7"},
		{name: "without trusted proxies X-Forwarded-For is ignored: a client cannot choose its address",
			remote: "198.51.100.7:5000", xff: []string{"203.0.113.9"}, want: "198.51.100.7"},
		{name: "a request not from a trusted proxy keeps its remote address whatever it forwards",
			remote: "198.51.100.7:5000", xff: []string{"203.0.113.9"}, trusted: proxy, want: "198.51.100.7"},
		{name: "a trusted proxy names the client", remote: "10.0.0.5:41000", xff: []string{"203.0.113.9"}, trusted: proxy, want: "203.0.113.9"},
		{name: "a chain is walked from the right past trusted proxies, and what the client wrote on the left is not believed",
			remote: "10.0.0.5:41000", xff: []string{"1.1.1.1, 203.0.113.9, 172.16.3.4"}, trusted: proxy, want: "203.0.113.9"},
		{name: "several X-Forwarded-For headers are one list",
			remote: "10.0.0.5:41000", xff: []string{"1.1.1.1", "203.0.113.9", "172.20.0.1"}, trusted: proxy, want: "203.0.113.9"},
		{name: "when every entry is a trusted proxy the leftmost is the client",
			remote: "10.0.0.5:41000", xff: []string{"172.16.0.9, 172.17.0.1"}, trusted: proxy, want: "172.16.0.9"},
		{name: "a trusted proxy without X-Forwarded-For is the client itself", remote: "10.0.0.5:41000", trusted: proxy, want: "10.0.0.5"},
		{name: "malformed entries are skipped",
			remote: "10.0.0.5:41000", xff: []string{"203.0.113.9, not-an-ip, , 999.1.1.1, unknown"}, trusted: proxy, want: "203.0.113.9"},
		{name: "only malformed entries leave the proxy as the client",
			remote: "10.0.0.5:41000", xff: []string{"garbage, _hidden"}, trusted: proxy, want: "10.0.0.5"},
		{name: "an entry with a port is read as its address",
			remote: "10.0.0.5:41000", xff: []string{"203.0.113.9:4711, [2001:db8::1]:4711"}, trusted: proxy, want: "2001:db8::1"},
		{name: "IPv6 behind an IPv6 proxy",
			remote: "[fd00::1]:41000", xff: []string{"2001:db8::7, fd12::3"}, trusted: proxy, want: "2001:db8::7"},
		{name: "an IPv6 remote address without proxies", remote: "[2001:db8::7]:5000", xff: []string{"203.0.113.9"}, want: "2001:db8::7"},
		{name: "IPv4-mapped IPv6 addresses are the IPv4 address, for trust and for the result",
			remote: "[::ffff:10.0.0.5]:41000", xff: []string{"::ffff:203.0.113.9"}, trusted: proxy, want: "203.0.113.9"},
		{name: "a remote address that is not an IP is used as it is", remote: "pipe", xff: []string{"203.0.113.9"}, trusted: proxy, want: "pipe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, c.trusted); got != c.want {
				t.Errorf("clientIP = %q, want %q", got, c.want)
			}
		})
	}
}
