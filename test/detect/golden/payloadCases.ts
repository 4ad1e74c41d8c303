// Payload-keyword cases for the Suricata differential golden file: each rule is run by
// real Suricata 7.0.10 (makeGolden.ts) and by our engine (payloadGolden.test.ts) over the
// same packets; every (packet, sid) alert must agree. Each packet is its own UDP (or ICMP)
// flow from 10.0.0.1 to 10.0.0.2:5555 so flow state does not mix cases; thresholds count
// across packets (same source). A new case is a new line here plus `makeGolden`.

export interface GoldenCase {
  /** Rule with SID in place of the sid number. */
  rule: string;
  payloads: string[];
  proto?: 'udp' | 'icmp';
  icmpType?: number;
  icmpCode?: number;
}

const U = (opts: string): string => `alert udp any any -> any any (${opts} sid:SID;)`;
const many = (s: string, n: number): string[] => Array<string>(n).fill(s);

export const GOLDEN_CASES: GoldenCase[] = [
  // content and its modifiers, relative chains with backtracking
  { rule: U('content:"abc"; content:"def"; distance:1; within:4;'), payloads: ['abcXdef', 'abcdef', 'abcXXdef', 'abcXXXdef', 'abc abcXdefg'] },
  { rule: U('content:"a"; content:"b"; distance:0; within:1;'), payloads: ['ab', 'aab', 'axb', 'a b ab'] },
  { rule: U('content:"GET"; offset:2; depth:5;'), payloads: ['GET x', '  GET', '   GET', 'xxGETxx'] },
  { rule: U('content:"x"; startswith;'), payloads: ['xy', 'yx'] },
  { rule: U('content:"yz"; endswith;'), payloads: ['xyz', 'yzx', 'yzyz'] },
  { rule: U('content:!"bad"; content:"ok";'), payloads: ['ok', 'bad ok', 'okbad'] },
  { rule: U('content:"k="; content:!"x"; distance:0; within:2;'), payloads: ['k=xy', 'k=ax', 'k=abx'] },
  { rule: U('content:"AbC"; nocase;'), payloads: ['xabcx', 'ABC', 'aBd'] },
  { rule: U('content:"a"; content:"c"; distance:1; within:1; content:"e"; distance:0;'), payloads: ['abcxe', 'aXaYcZe', 'axxc'] },
  { rule: U('content:"aa"; content:"b"; distance:0; within:1;'), payloads: ['aaab', 'aaxb'] },
  { rule: U('content:"ab"; fast_pattern:only;'), payloads: ['xxab', 'a b'] },
  { rule: U('content:"abcdef"; fast_pattern:2,2;'), payloads: ['abcdef', 'cd'] },
  { rule: U('content:"a"; distance:-1;'), payloads: ['a'] },
  { rule: U('content:"ab"; content:"ab"; distance:-2; within:2;'), payloads: ['ab'] },
  { rule: U('content:"|00 01|"; content:"|02|"; within:2;'), payloads: ['\x00\x01\x02', '\x00\x01a\x02', '\x00\x01ab\x02'] },
  { rule: U('content:"ab"; depth:3; content:"cd"; distance:0;'), payloads: ['xabcd', 'xxabcd'] },
  { rule: U('content:"ab"; offset:1; content:"cd"; within:4;'), payloads: ['xabcd', 'abcd'] },
  // isdataat, dsize
  { rule: U('isdataat:3;'), payloads: ['abc', 'abcd', ''] },
  { rule: U('content:"ab"; isdataat:2,relative;'), payloads: ['abcd', 'abc', 'ab'] },
  { rule: U('content:"ab"; isdataat:!1,relative;'), payloads: ['ab', 'abc'] },
  { rule: U('content:"ab"; isdataat:!3,relative; content:"c"; distance:0;'), payloads: ['abc', 'abcde', 'abxc'] },
  { rule: U('dsize:3<>6;'), payloads: ['abc', 'abcd', 'abcdef', 'abcde'] },
  { rule: U('dsize:>4;'), payloads: ['abcd', 'abcde'] },
  // byte_test / byte_jump / byte_extract
  { rule: U('byte_test:1,>,0x40,0;'), payloads: ['A', '@', 'z'] },
  { rule: U('byte_test:2,=,258,1;'), payloads: ['x\x01\x02', 'x\x02\x01'] },
  { rule: U('byte_test:2,=,258,0,little;'), payloads: ['\x02\x01', '\x01\x02'] },
  { rule: U('byte_test:3,=,123,0,string,dec;'), payloads: ['123', '124', '12a'] },
  { rule: U('byte_test:2,=,0xff,0,string,hex;'), payloads: ['ff', 'FF', 'fe'] },
  { rule: U('content:"L"; byte_test:1,&,0x80,0,relative;'), payloads: ['L\x80', 'L\x7f'] },
  { rule: U('byte_test:1,!=,5,0;'), payloads: ['\x05', '\x06'] },
  { rule: U('byte_test:1,=,2,0,bitmask 0x0c;'), payloads: ['\x08', '\x04', '\x0b'] },
  { rule: U('byte_jump:1,0; content:"Z"; within:1;'), payloads: ['\x02abZ', '\x02aZ', '\x03abcZ'] },
  { rule: U('byte_jump:1,0,relative,post_offset 1; content:"Z"; within:1;'), payloads: ['\x01aZ', '\x01Z'] },
  { rule: U('byte_jump:1,0,from_beginning; content:"Z"; within:1;'), payloads: ['\x02aZ', '\x01Z'] },
  { rule: U('byte_jump:1,0;'), payloads: ['\x02ab', '\x02a', '\x01a', '\x03ab'] },
  { rule: U('byte_jump:1,0,multiplier 2; content:"Q"; within:1;'), payloads: ['\x02abcdQ', '\x02abQ'] },
  { rule: U('byte_jump:1,0,align; content:"Q"; within:1;'), payloads: ['\x01abcQ', '\x01aQ'] },
  { rule: U('byte_jump:2,0,string,dec; content:"Q"; within:1;'), payloads: ['03abcQ', '03aQ'] },
  { rule: U('byte_extract:1,0,len; content:"X"; distance:len; within:1;'), payloads: ['\x02abX', '\x02aX', '\x01aX'] },
  { rule: U('byte_extract:1,0,n; byte_test:1,=,n,1;'), payloads: ['\x05\x05', '\x05\x06'] },
  { rule: U('byte_extract:1,0,off; content:"Y"; offset:off; depth:1;'), payloads: ['\x02aY', '\x02Ya'] },
  // pcre translation: the PCRE/JS differences
  { rule: U('pcre:"/^ab.d$/";'), payloads: ['abcd', 'ab\rd', 'ab\nd', 'abcd\n', 'abcd\n\n', 'xabcd'] },
  { rule: U('pcre:"/ab.d/s";'), payloads: ['ab\nd'] },
  { rule: U('pcre:"/^x/m";'), payloads: ['a\nx', 'a\rx', 'ax'] },
  { rule: U('pcre:"/a\\sb/";'), payloads: ['a b', 'a\x0bb', 'a\xa0b'] },
  { rule: U('pcre:"/a\\Sb/";'), payloads: ['a\xa0b', 'a b'] },
  { rule: U('pcre:"/[]a]+z/";'), payloads: [']]z', 'az', 'bz'] },
  { rule: U('pcre:"/[[:digit:]]{3}/";'), payloads: ['a123', 'a12'] },
  { rule: U('pcre:"/hello/i";'), payloads: ['HeLLo', 'hell'] },
  { rule: U('pcre:"/ a b # comment/x";'), payloads: ['ab', 'a b'] },
  { rule: U('content:"ab"; pcre:"/^cd/R";'), payloads: ['abcd', 'abxcd', 'xabcd'] },
  { rule: U('content:"ab"; pcre:"/cd/R";'), payloads: ['abxcd', 'cdab'] },
  { rule: U('pcre:"/abc$/E";'), payloads: ['abc', 'abc\n'] },
  { rule: U('pcre:"/\\Aab/";'), payloads: ['ab', 'xab'] },
  { rule: U('pcre:"/ab\\Z/";'), payloads: ['ab', 'ab\n', 'abx'] },
  { rule: U('pcre:"/a\\x41/";'), payloads: ['aA', 'aB'] },
  { rule: U('pcre:"/(?P<n>ab)(?P=n)/";'), payloads: ['abab', 'abba'] },
  { rule: U('pcre:!"/foo/";'), payloads: ['foo', 'bar'] },
  { rule: U('pcre:"/x/A";'), payloads: ['xa', 'ax'] },
  { rule: U('content:"a"; pcre:"/b/AR";'), payloads: ['ab', 'acb'] },
  { rule: U('pcre:"/^(?:GET|POST)\\s+\\/[a-z0-9]{4,}\\.php\\?id=\\d+/i";'), payloads: ['GET /abcd.php?id=12', 'post /ab.php?id=1', 'POST  /abcde.PHP?id=9'] },
  { rule: U('pcre:"/[\\x80-\\xff]{3}/";'), payloads: ['a\x80\x90\xffb', 'a\x80b'] },
  { rule: U('pcre:"/\\bword\\b/";'), payloads: ['a word.', 'swordfish'] },
  { rule: U('pcre:"/a{2,3}?b/";'), payloads: ['aab', 'ab'] },
  { rule: U('pcre:"/(a|b)\\1/";'), payloads: ['aa', 'ab'] },
  { rule: U('pcre:"/(?i)mixed/";'), payloads: ['MIXED', 'mix'] },
  { rule: U('pcre:"/x.y/";'), payloads: ['x\x85y', 'x\ry', 'x\ny'] },
  { rule: U('pcre:"/\\d\\D\\w\\W/";'), payloads: ['1a_!', '1a_b'] },
  { rule: U('pcre:"/[^\\s]{3}/";'), payloads: ['a\xa0b', ' a '] },
  { rule: U('pcre:"/\\x7/";'), payloads: ['\x07', 'x7'] },
  { rule: U('pcre:"/a\\/b/";'), payloads: ['a/b'] },
  { rule: U('pcre:"/q\\;w/";'), payloads: ['q;w'] },
  // thresholds (count across packets from one source)
  { rule: U('content:"LIM"; threshold:type limit, track by_src, count 2, seconds 60;'), payloads: many('LIM', 5) },
  { rule: U('content:"THR"; threshold:type threshold, track by_dst, count 2, seconds 60;'), payloads: many('THR', 5) },
  { rule: U('content:"BOT"; threshold:type both, track by_src, count 2, seconds 60;'), payloads: many('BOT', 5) },
  { rule: U('content:"DFL"; detection_filter:track by_src, count 2, seconds 60;'), payloads: many('DFL', 5) },
  // header fields
  { rule: U('content:"ttl"; ttl:64;'), payloads: ['ttl'] },
  { rule: U('content:"ttl2"; ttl:<64;'), payloads: ['ttl2'] },
  { rule: 'alert ip any any -> any any (content:"ipp"; ip_proto:17; sid:SID;)', payloads: ['ipp'] },
  { rule: 'alert icmp any any -> any any (itype:8; icode:0; sid:SID;)', payloads: ['ping'], proto: 'icmp', icmpType: 8, icmpCode: 0 },
  { rule: 'alert icmp any any -> any any (itype:>10; sid:SID;)', payloads: ['ts'], proto: 'icmp', icmpType: 13, icmpCode: 0 },
  { rule: 'alert icmp any any -> any any (itype:3; icode:1<>4; sid:SID;)', payloads: ['u1', 'u2'], proto: 'icmp', icmpType: 3, icmpCode: 2 },
  { rule: U('content:"sp"; flow:to_server;'), payloads: ['sp'] },
  { rule: U('content:"tc"; flow:to_client;'), payloads: ['tc'] },
  { rule: U('content:"est"; flow:established;'), payloads: ['est'] },
  { rule: U('content:"nest"; flow:not_established;'), payloads: ['nest'] },
];
