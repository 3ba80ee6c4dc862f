package gluelab.s3;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 for S3 requests, header-based ("Authorization: AWS4-HMAC-SHA256 ...").
 *
 * <p>Written from AWS's public description of the algorithm: canonical request, string to sign, signing key
 * derived by chained HMAC-SHA256 of date, region, service and "aws4_request". S3 differs from other services in
 * two ways that matter here: the path is encoded once (not twice) and the payload hash is sent in the
 * {@code x-amz-content-sha256} header, which may be {@code UNSIGNED-PAYLOAD}.
 *
 * <p>{@link #main} signs one request from the command line so tests can compare it with another signer.
 */
public final class SigV4 {
    /** SHA-256 of the empty string, the payload hash of requests without a body. */
    public static final String EMPTY_SHA256 =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

    private SigV4() {}

    /**
     * Adds {@code x-amz-date}, {@code x-amz-content-sha256}, {@code x-amz-security-token} (when a session token
     * is given) and {@code authorization} to {@code headers}.
     *
     * @param headers     lower-case header names to values; must already hold {@code host} and every header
     *                    that should be signed (all of them are)
     * @param encodedPath the request path exactly as sent, already percent-encoded ("/bucket/a%3Db/c")
     * @param query       decoded query parameters (encoded here, sorted, as SigV4 requires)
     * @param amzDate     the request time as yyyyMMdd'T'HHmmss'Z' (UTC)
     */
    public static void sign(String method, String encodedPath, Map<String, String> query,
                            SortedMap<String, String> headers, String payloadHash, String amzDate,
                            String region, String accessKey, String secretKey, String sessionToken) {
        headers.put("x-amz-date", amzDate);
        headers.put("x-amz-content-sha256", payloadHash);
        if (sessionToken != null && !sessionToken.isEmpty()) {
            headers.put("x-amz-security-token", sessionToken);
        }
        String signedHeaders = String.join(";", headers.keySet());
        StringBuilder canonical = new StringBuilder();
        canonical.append(method).append('\n')
            .append(encodedPath.isEmpty() ? "/" : encodedPath).append('\n')
            .append(canonicalQuery(query)).append('\n');
        for (Map.Entry<String, String> h : headers.entrySet()) {
            canonical.append(h.getKey()).append(':').append(h.getValue().trim()).append('\n');
        }
        canonical.append('\n').append(signedHeaders).append('\n').append(payloadHash);

        String date = amzDate.substring(0, 8);
        String scope = date + "/" + region + "/s3/aws4_request";
        String stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
            + hex(sha256(canonical.toString().getBytes(StandardCharsets.UTF_8)));
        byte[] key = hmac(("AWS4" + secretKey).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, "s3");
        key = hmac(key, "aws4_request");
        String signature = hex(hmac(key, stringToSign));
        headers.put("authorization", "AWS4-HMAC-SHA256 Credential=" + accessKey + "/" + scope
            + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature);
    }

    /** The query string in SigV4's canonical form (keys sorted, keys and values percent-encoded). */
    public static String canonicalQuery(Map<String, String> query) {
        SortedMap<String, String> sorted = new TreeMap<>();
        for (Map.Entry<String, String> e : query.entrySet()) {
            sorted.put(encode(e.getKey(), false), encode(e.getValue() == null ? "" : e.getValue(), false));
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            if (sb.length() > 0) sb.append('&');
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    /** RFC 3986 percent-encoding of UTF-8 bytes: unreserved characters stay, '/' stays only if keepSlash. */
    public static String encode(String s, boolean keepSlash) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /**
     * Signs one request and prints its headers, one "name: value" per line.
     * Arguments: method encodedPath query (k=v&amp;..., percent-encoded as in a URL, may be "") host payloadHash
     * amzDate region accessKey secretKey [sessionToken] [extra headers as name:value ...].
     */
    public static void main(String[] args) {
        Map<String, String> query = new TreeMap<>();
        if (!args[2].isEmpty()) {
            for (String pair : args[2].split("&")) {
                int eq = pair.indexOf('=');
                query.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
            }
        }
        SortedMap<String, String> headers = new TreeMap<>();
        headers.put("host", args[3]);
        String token = args.length > 9 && !args[9].isEmpty() ? args[9] : null;
        for (int i = 10; i < args.length; i++) {
            int colon = args[i].indexOf(':');
            headers.put(args[i].substring(0, colon).toLowerCase(java.util.Locale.ROOT), args[i].substring(colon + 1));
        }
        sign(args[0], args[1], query, headers, args[4], args[5], args[6], args[7], args[8], token);
        for (Map.Entry<String, String> h : headers.entrySet()) {
            System.out.println(h.getKey() + ": " + h.getValue());
        }
    }
}
