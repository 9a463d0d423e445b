package ai.mvar.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HalfTest {
    @Test
    void knownEncodings() {
        assertEquals((short) 0x3c00, Half.fromFloat(1f));
        assertEquals((short) 0xc000, Half.fromFloat(-2f));
        assertEquals((short) 0x7bff, Half.fromFloat(65504f));
        assertEquals((short) 0x7c00, Half.fromFloat(65520f));
        assertEquals((short) 0x0001, Half.fromFloat(0x1p-24f));
        assertEquals((short) 0x3555, Half.fromFloat(1f / 3));
        // 1 + 2^-11 is halfway between 1 and the next half: ties go to the even mantissa.
        assertEquals((short) 0x3c00, Half.fromFloat(1f + 0x1p-11f));
        assertEquals((short) 0x3c02, Half.fromFloat(1f + 3 * 0x1p-11f));
    }

    @Test
    void everyHalfRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            int exp = (h >>> 10) & 0x1f;
            if (exp == 31 && (h & 0x3ff) != 0) {
                continue; // NaN payloads are not preserved, nor need to be
            }
            assertEquals((short) h, Half.fromFloat(Half.toFloat((short) h)), Integer.toHexString(h));
        }
    }
}
