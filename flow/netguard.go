package flow

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// NetGuard keeps outbound connections off addresses a self-serve customer
// must not reach through the server: loopback, private, link-local (the
// cloud metadata service among them), carrier-grade NAT, unspecified,
// multicast and reserved ranges (broadcast among them). Its Control method is a ClientOptions
// DialControl: it sees the address actually dialled, after name resolution,
// so a name that resolves to a public address at check time and to a
// private one at dial time (DNS rebinding) is still refused.
type NetGuard struct {
	// Allow lists exact "ip:port" addresses that are reachable anyway (the
	// embedded demo IdP on loopback).
	Allow []string
}

// blockedPrefixes are the ranges no customer session may dial, with the
// words that tell the person why.
var blockedPrefixes = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback"},
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud metadata service's"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a reserved"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved"},
	{netip.MustParsePrefix("::/128"), "an unspecified"},
	{netip.MustParsePrefix("::1/128"), "a loopback"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the cloud metadata service's"},
	{netip.MustParsePrefix("fc00::/7"), "a private"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast"},
}

// nat64 is the well-known NAT64 prefix: its last 32 bits are an IPv4
// address, which is what the connection reaches in the end.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// BlockedAddress says why ip may not be dialled for a customer ("a private",
// "a loopback", ...), or "" when it may.
func BlockedAddress(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, p := range blockedPrefixes {
		if p.prefix.Contains(ip) {
			return p.kind
		}
	}
	return ""
}

// Control refuses a connection to a blocked address; use it as
// ClientOptions.DialControl.
func (g NetGuard) Control(network, address string, _ syscall.RawConn) error {
	for _, a := range g.Allow {
		if a == address {
			return nil
		}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(address)
		if splitErr != nil {
			return blockedError(address, "an unrecognized")
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return blockedError(address, "an unrecognized")
		}
		ap = netip.AddrPortFrom(ip, 0)
	}
	if kind := BlockedAddress(ap.Addr()); kind != "" {
		return blockedError(address, kind)
	}
	return nil
}

func blockedError(address, kind string) error {
	return &Error{Code: CodeAddressBlocked,
		Message: fmt.Sprintf("the IdP's address resolves to %s, %s address, which setup sessions on this server may not reach", address, kind),
		Fix:     "use the IdP's public https address; if the IdP is only reachable inside a private network, the server's operator can start it with --allow-private-networks"}
}
