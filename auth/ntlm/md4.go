package ntlm

import (
	"encoding/binary"
	"math/bits"
)

// md4Sum returns the MD4 digest (RFC 1320) of b. MD4 is broken as a hash,
// but NTLM's NT one-way function is defined with it; it is used for nothing
// else here.
func md4Sum(b []byte) [16]byte {
	a0, b0, c0, d0 := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)
	msgLen := uint64(len(b)) * 8
	padded := make([]byte, 0, len(b)+72)
	padded = append(padded, b...)
	padded = append(padded, 0x80)
	for len(padded)%64 != 56 {
		padded = append(padded, 0)
	}
	padded = binary.LittleEndian.AppendUint64(padded, msgLen)

	var x [16]uint32
	for off := 0; off < len(padded); off += 64 {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(padded[off+4*i:])
		}
		a, bb, c, d := a0, b0, c0, d0
		f := func(x, y, z uint32) uint32 { return (x & y) | (^x & z) }
		g := func(x, y, z uint32) uint32 { return (x & y) | (x & z) | (y & z) }
		h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
		// Round 1.
		for _, i := range [4]int{0, 4, 8, 12} {
			a = bits.RotateLeft32(a+f(bb, c, d)+x[i], 3)
			d = bits.RotateLeft32(d+f(a, bb, c)+x[i+1], 7)
			c = bits.RotateLeft32(c+f(d, a, bb)+x[i+2], 11)
			bb = bits.RotateLeft32(bb+f(c, d, a)+x[i+3], 19)
		}
		// Round 2.
		for _, i := range [4]int{0, 1, 2, 3} {
			a = bits.RotateLeft32(a+g(bb, c, d)+x[i]+0x5a827999, 3)
			d = bits.RotateLeft32(d+g(a, bb, c)+x[i+4]+0x5a827999, 5)
			c = bits.RotateLeft32(c+g(d, a, bb)+x[i+8]+0x5a827999, 9)
			bb = bits.RotateLeft32(bb+g(c, d, a)+x[i+12]+0x5a827999, 13)
		}
		// Round 3.
		for _, i := range [4]int{0, 2, 1, 3} {
			a = bits.RotateLeft32(a+h(bb, c, d)+x[i]+0x6ed9eba1, 3)
			d = bits.RotateLeft32(d+h(a, bb, c)+x[i+8]+0x6ed9eba1, 9)
			c = bits.RotateLeft32(c+h(d, a, bb)+x[i+4]+0x6ed9eba1, 11)
			bb = bits.RotateLeft32(bb+h(c, d, a)+x[i+12]+0x6ed9eba1, 15)
		}
		a0 += a
		b0 += bb
		c0 += c
		d0 += d
	}
	var out [16]byte
	binary.LittleEndian.PutUint32(out[0:], a0)
	binary.LittleEndian.PutUint32(out[4:], b0)
	binary.LittleEndian.PutUint32(out[8:], c0)
	binary.LittleEndian.PutUint32(out[12:], d0)
	return out
}
