#!/usr/bin/env python3
"""make_corpus.py - writes the seed corpus under tests/fuzz/corpus/.

Run from the source tree after changing it: python3 tests/fuzz/make_corpus.py
Every seed is made here by hand, byte by byte, so the corpus says what
each one is; only the documentation address ranges are used."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def name(text):
    if text in ("", "."):
        return b"\0"
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(ident, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def rr(owner, rtype, rdata, ttl=300, rclass=1):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(size=1232, do=False, options=b""):
    return b"\0" + struct.pack(">HHIH", 41, size, 0x8000 if do else 0,
                               len(options)) + options


def tsig(owner=name("key.example")):
    rdata = (name("hmac-sha256") + struct.pack(">HI", 0, 0x655f0000) +
             struct.pack(">HH", 300, 32) + bytes(range(32)) +
             struct.pack(">HHH", 0xabcd, 0, 0))
    return rr(owner, 250, rdata, ttl=0, rclass=255)


def hidden_tsigs(message):
    """Appends to message's additional section one TSIG whose RDLENGTH also
    covers six more TSIG records, then seven empty private-type records:
    ldns_wire2pkt reads the hidden ones as records (fuzz_query found it)."""
    outer = tsig()
    fields = outer[len(name("key.example")) + 10:]
    rdata = fields + tsig(name("")) * 6
    record = name("key.example") + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    filler = b"\0" + struct.pack(">HHIH", 0xff00, 1, 0, 0)
    ar = struct.unpack(">H", message[10:12])[0] + 8
    return message[:10] + struct.pack(">H", ar) + message[12:] + record + filler * 7


def question(qname, qtype=1, qclass=1):
    return name(qname) + struct.pack(">HH", qtype, qclass)


RD, QR, RA, TC, AA, CD = 0x0100, 0x8000, 0x0080, 0x0200, 0x0400, 0x0010
A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, HTTPS = 1, 2, 5, 6, 12, 15, 16, 28, 33, 65
COOKIE = struct.pack(">HH", 10, 8) + b"\x01\x02\x03\x04\x05\x06\x07\x08"


def queries():
    q = {}
    q["a"] = header(0x1234, RD) + question("www.example.com")
    q["aaaa-edns"] = header(0x1235, RD, ar=1) + question("example.com", AAAA) + opt()
    q["https-do"] = header(7, RD, ar=1) + question("example.org", HTTPS) + opt(4096, True)
    q["cookie"] = header(8, RD, ar=1) + question("a.example.net", A) + opt(1232, False, COOKIE)
    q["cd"] = header(9, RD | CD) + question("dnssec.example", A)
    q["root-ns"] = header(10, 0) + question(".", NS)
    q["ptr"] = header(11, RD) + question("1.2.0.192.in-addr.arpa", PTR)
    q["mixed-case"] = header(12, RD) + question("WwW.ExAmPlE.CoM", A)
    q["txt-ch"] = header(13, 0) + question("version.bind", TXT, 3)
    q["long-name"] = header(14, RD) + question(".".join(["a" * 63] * 3 + ["b" * 61]))
    q["escapes"] = header(15, RD) + b"\x03a\x00b\x04\\.\"(\x07example\x00" + struct.pack(">HH", 1, 1)
    q["tsig"] = header(16, RD, ar=1) + question("signed.example") + tsig()
    q["opt-tsig"] = header(17, RD, ar=2) + question("signed.example") + opt() + tsig()
    q["two-tsig"] = header(18, RD, ar=2) + question("x.example") + tsig() + tsig()
    # ldns 1.8.3 leaks from three on (it counts each TSIG off ARCOUNT).
    q["three-tsig"] = header(32, RD, ar=3) + question("x.example") + tsig() * 3
    q["hidden-tsigs"] = hidden_tsigs(header(33, RD, ar=0) + question("x.example"))
    q["many-tsig"] = header(19, RD, ar=40) + question("x.example") + tsig() * 40
    q["two-opt"] = header(20, RD, ar=2) + question("x.example") + opt() + opt()
    q["answer-in-query"] = (header(21, RD, an=1) + question("x.example") +
                            rr(b"\xc0\x0c", A, bytes([192, 0, 2, 1])))
    q["no-question"] = header(22, RD, qd=0)
    q["two-questions"] = header(23, RD, qd=2) + question("a.example") + question("b.example")
    q["notify"] = header(24, 4 << 11) + question("example.com", SOA)
    q["response"] = header(25, QR | RD | RA) + question("example.com")
    q["pointer-loop"] = header(26, RD) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
    q["pointer-past"] = header(27, RD) + b"\xc0\xff" + struct.pack(">HH", 1, 1)
    q["cut"] = (header(28, RD) + question("www.example.com"))[:20]
    q["header-only"] = header(29, RD, qd=1)
    q["label-0x40"] = header(30, RD) + b"\x41a\x00" + struct.pack(">HH", 1, 1)
    q["opt-overrun"] = header(31, RD, ar=1) + question("x.example") + opt()[:-2] + b"\x00\x40"
    return q


def answer(ident, qname, qtype, records, rcode=0, an=None, ns=0, ar=0, flags=QR | RD | RA):
    if an is None:
        an = len(records) - ns - ar
    return header(ident, flags | rcode, 1, an, ns, ar) + question(qname, qtype) + b"".join(records)


def answers():
    ptr = b"\xc0\x0c"
    soa = (name("ns.example.com") + name("host.example.com") +
           struct.pack(">IIIII", 2024010101, 7200, 3600, 1209600, 60))
    a = {}
    a["a"] = answer(1, "www.example.com", A, [rr(ptr, A, bytes([192, 0, 2, 1]), 60)])
    a["a-uncompressed"] = answer(2, "www.example.com", A,
                                 [rr(name("www.example.com"), A, bytes([192, 0, 2, 2]))])
    a["aaaa"] = answer(3, "v6.example.com", AAAA,
                       [rr(ptr, AAAA, bytes.fromhex("20010db8000000000000000000000001"))])
    a["cname-chain"] = answer(4, "www.example.com", A, [
        rr(ptr, CNAME, name("a.example.net"), 300),
        rr(name("a.example.net"), CNAME, name("b.example.org"), 200),
        rr(name("b.example.org"), A, bytes([198, 51, 100, 7]), 30)])
    a["cname-loop"] = answer(5, "loop.example", A, [
        rr(ptr, CNAME, name("loop2.example")),
        rr(name("loop2.example"), CNAME, name("loop.example"))])
    a["nxdomain-soa"] = answer(6, "nx.example.com", A,
                               [rr(name("example.com"), SOA, soa, 3600)], rcode=3, ns=1)
    a["nodata-soa"] = answer(7, "www.example.com", AAAA,
                             [rr(b"\xc0\x10", SOA, soa, 900)], ns=1)
    a["servfail"] = answer(8, "x.example.com", A, [], rcode=2)
    a["truncated"] = answer(9, "big.example", A, [], flags=QR | RD | RA | TC)
    a["edns-do"] = answer(10, "www.example.com", A,
                          [rr(ptr, A, bytes([203, 0, 113, 5])), opt(1232, True)], ar=1)
    a["many-a"] = answer(11, "many.example", A,
                         [rr(ptr, A, bytes([192, 0, 2, i])) for i in range(1, 70)])
    a["mx-additional"] = answer(12, "example.com", MX, [
        rr(ptr, MX, struct.pack(">H", 10) + name("mail.example.com")),
        rr(name("mail.example.com"), A, bytes([192, 0, 2, 25]))], ar=1)
    a["txt"] = answer(13, "example.com", TXT, [rr(ptr, TXT, b"\x0bhello world")])
    a["srv"] = answer(14, "_sip._udp.example.com", SRV,
                      [rr(ptr, SRV, struct.pack(">HHH", 1, 2, 5060) + name("sip.example.com"))])
    a["https"] = answer(15, "example.com", HTTPS,
                        [rr(ptr, HTTPS, struct.pack(">H", 1) + b"\0" +
                            struct.pack(">HH", 1, 3) + b"\x02h2")])
    a["tsig"] = answer(16, "www.example.com", A,
                       [rr(ptr, A, bytes([192, 0, 2, 1])), tsig()], ar=1)
    a["two-tsig"] = answer(17, "www.example.com", A,
                           [rr(ptr, A, bytes([192, 0, 2, 1])), tsig(), tsig()], ar=2)
    a["hidden-tsigs"] = hidden_tsigs(a["a"])
    a["no-question"] = header(18, QR | RA | 1, qd=0)
    a["a-bad-rdlength"] = answer(19, "www.example.com", A, [rr(ptr, A, bytes([192, 0, 2]))])
    a["cut"] = a["cname-chain"][:-3]
    a["ttl-zero"] = answer(20, "zero.example", A, [rr(ptr, A, bytes([192, 0, 2, 9]), 0)])
    a["ttl-huge"] = answer(21, "huge.example", A, [rr(ptr, A, bytes([192, 0, 2, 10]), 0xffffffff)])
    a["authority-ns"] = answer(22, "www.example.com", A, [
        rr(ptr, A, bytes([192, 0, 2, 1])),
        rr(name("example.com"), NS, name("ns1.example.com"))], ns=1)
    a["mixed-case"] = answer(23, "WWW.Example.COM", A, [rr(ptr, A, bytes([192, 0, 2, 1]))])
    return a


def tcp_streams():
    qs = queries()
    frame = lambda m: struct.pack(">H", len(m)) + m
    s = {}
    # The first four bytes seed the chunk sizes.
    s["one"] = b"\x01\x02\x03\x04" + frame(qs["a"])
    s["three"] = b"\xaa\xbb\xcc\xdd" + frame(qs["a"]) + frame(qs["aaaa-edns"]) + frame(qs["cookie"])
    s["partial"] = b"\x00\x00\x00\x01" + frame(qs["a"]) + frame(qs["cookie"])[:9]
    s["half-prefix"] = b"\x10\x20\x30\x40" + frame(qs["a"]) + b"\x00"
    s["zero-length"] = b"\x05\x06\x07\x08" + frame(qs["a"]) + b"\x00\x00" + frame(qs["a"])
    s["max-length-cut"] = b"\x09\x0a\x0b\x0c" + b"\xff\xff" + bytes(300)
    s["tiny-frames"] = b"\x0d\x0e\x0f\x10" + b"\x00\x01\x00" * 50
    s["pipelined"] = b"\x11\x12\x13\x14" + b"".join(frame(m) for m in qs.values())
    return s


def hosts():
    h = {}
    h["plain"] = b"doubleclick.net\ngoogleadservices.com\nscorecardresearch.com\n"
    h["hosts"] = b"0.0.0.0 adnxs.com\n127.0.0.1 hotjar.com tracker.example\n:: ads.example\n"
    h["comments"] = b"# a list\n\n   # indented\nads.example # trailing\n\t\n"
    h["boilerplate"] = (b"127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
                        b"255.255.255.255 broadcasthost\nfe00::0 ip6-localnet\n0.0.0.0 0.0.0.0\n")
    h["crlf-bom"] = b"\xef\xbb\xbfads.example\r\n0.0.0.0 track.example\r\n"
    h["adblock"] = b"||ads.example^\nexample.com##.ad\n@@||good.example^\n"
    h["bad"] = b"bad..example\n-a.example\n" + b"a" * 64 + b".example\n0.0.0.0\n1.2.3.4.5 x.example\n"
    h["long-line"] = b"0.0.0.0 " + b" ".join(b"n%d.example" % i for i in range(400)) + b"\n"
    h["underscore-dots"] = b"_dmarc.example.\nxn--bcher-kva.example\nEXAMPLE.ORG\n"
    h["no-newline"] = b"last.example"
    h["nul"] = b"a.example\n\0b.example\nc.exam\0ple\n"
    h["ipv6"] = b"2001:db8::1 six.example\n::ffff:192.0.2.1 mapped.example\n"
    return h


def configs():
    src = os.path.join(HERE, "..", "..", "etc", "dnsgate.conf")
    c = {}
    with open(src, "rb") as f:
        c["shipped"] = f.read()
    c["upstreams"] = (b"upstream 192.0.2.53\nupstream [2001:db8::53]:5353\n"
                      b"upstream 198.51.100.1\n")
    c["numbers"] = (b"listen-port 53\ngrant-ttl-min 0\ngrant-ttl-max 0x15180\n"
                    b"set-size 1024\ncache-size 0\nupstream-mark 0x1\n"
                    b"upstream-timeout 500\nupstream-tries 5\n")
    c["logs"] = b"log-file /var/log/dnsgate.log\nlog-queries no\n"
    c["paths"] = b"blocklist /etc/dnsgate/ads.txt\nblocklist lists/more lists.txt\nresolv-conf /run/resolv.conf\n"
    c["crlf-comments"] = b"# dnsgate\r\nlisten-port 5453 # the default\r\n\texempt\t203.0.113.0/24  \r\n"
    c["errors"] = b"listen-port seventy\n"
    c["unknown-key"] = b"listen-prot 53\n"
    c["bad-prefix"] = b"exempt 192.0.2.0/33\n"
    c["ttl-order"] = b"grant-ttl-min 600\ngrant-ttl-max 60\n"
    c["empty-value"] = b"blocklist\n"
    c["bool"] = b"log-queries maybe\n"
    c["v6-exempt"] = b"exempt 2001:db8::/32\nexempt ::/0\nexempt 0.0.0.0/0\n"
    return c


def requests():
    return {
        "status": b'{"command": "status"}',
        "explain": b'{"command":"explain","app":"app:firefox","name":"example.com"}',
        "protocol": b'{"command": "hello", "protocol": 1}',
        "newer": b'{"command": "hello", "protocol": 2}',
        "escapes": b'{"command":"st\\u0061tus\\n\\"\\\\\\/"}',
        "utf8": b'{"command":"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}',
        "not-utf8": b'{"command":"\xc0\xaf\xed\xa0\x80"}',
        "nul": b'{"command":"sta\x00tus"}',
        "duplicate": b'{"command":"status","command":"reload"}',
        "nested": b'{"command":[[[[{"a":1}]]]]}',
        "numbers": b'{"command":"x","protocol":-0,"a":1.5e-3,"b":99999999999999999999}',
        "literals": b'{"a":true,"b":false,"c":null}',
        "empty": b"{}",
    }


def write(harness, seeds):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for key, data in seeds.items():
        with open(os.path.join(d, key), "wb") as f:
            f.write(data)


def main():
    write("fuzz_query", queries())
    write("fuzz_answer", answers())
    write("fuzz_tcp_framing", tcp_streams())
    write("fuzz_list_hosts", hosts())
    write("fuzz_config", configs())
    write("fuzz_control", requests())
    return 0


if __name__ == "__main__":
    sys.exit(main())
