package ai.mvar.checkpoint;

/** Decoding of the text forms of strings used by pickle protocol 0. */
final class PickleStrings {
    private PickleStrings() {}

    /** The STRING opcode's argument: a Python 2 {@code repr} of a byte string, quotes included. */
    static String quoted(String repr) {
        if (repr.length() < 2 || repr.charAt(0) != repr.charAt(repr.length() - 1)
                || (repr.charAt(0) != '\'' && repr.charAt(0) != '"')) {
            throw new IllegalArgumentException("STRING argument is not quoted");
        }
        String body = repr.substring(1, repr.length() - 1);
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i == body.length()) {
                throw new IllegalArgumentException("STRING ends inside an escape");
            }
            char e = body.charAt(i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    int end = i;
                    while (end < body.length() && end < i + 3 && body.charAt(end) >= '0' && body.charAt(end) <= '7') {
                        end++;
                    }
                    out.append((char) (Integer.parseInt(body.substring(i, end), 8) & 0xff));
                    i = end - 1;
                }
                case 'x' -> {
                    out.append((char) hex(body, i + 1, 2));
                    i += 2;
                }
                default -> out.append(e); // \\, \', \" and unknown escapes keep the character
            }
        }
        return out.toString();
    }

    /** The UNICODE opcode's argument: latin-1 text with {@code \\uXXXX} and {@code \\UXXXXXXXX} escapes. */
    static String rawUnicodeEscape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == 'u' || text.charAt(i + 1) == 'U')) {
                int digits = text.charAt(i + 1) == 'u' ? 4 : 8;
                int codePoint = hex(text, i + 2, digits);
                if (!Character.isValidCodePoint(codePoint)) {
                    throw new IllegalArgumentException("invalid code point in UNICODE");
                }
                out.appendCodePoint(codePoint);
                i += 1 + digits;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int hex(String s, int from, int digits) {
        if (from + digits > s.length()) {
            throw new IllegalArgumentException("truncated escape");
        }
        try {
            return (int) Long.parseLong(s.substring(from, from + digits), 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed escape");
        }
    }
}
