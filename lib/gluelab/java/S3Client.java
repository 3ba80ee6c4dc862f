package gluelab.s3;

import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The S3 REST calls the file system needs, over plain HTTP/1.1 (java.net.http), signed with SigV4.
 *
 * <p>One client per bucket. Requests that fail with a connection error, 429 or 5xx are retried with
 * exponential backoff (every request here is idempotent or replayable). S3 errors become Java exceptions that
 * name the s3 path: 404 is {@link FileNotFoundException}, 403 is {@link AccessDeniedException}, anything else an
 * {@link IOException} with S3's error code and message instead of the XML body.
 */
final class S3Client {
    /** One HTTP client per JVM: it pools connections and owns a selector thread. */
    private static final HttpClient HTTP = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
    private static final DateTimeFormatter AMZ_DATE =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final int MAX_ATTEMPTS = 4;
    /** Regions learnt from S3's redirects, per bucket (real S3 answers 301/400 when asked in the wrong region). */
    private static final Map<String, String> BUCKET_REGIONS = new ConcurrentHashMap<>();
    /** Requests sent by this JVM, per method ("GET", "HEAD", ...): counts and total milliseconds. */
    static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();
    static final Map<String, LongAdder> MILLIS = new ConcurrentHashMap<>();

    final String scheme;
    final String bucket;
    private final String endpoint;      // "http://127.0.0.1:4566" or null for AWS
    private final boolean pathStyle;
    private final String region;
    private final Credentials credentials;

    S3Client(String scheme, String bucket, String endpoint, boolean pathStyle, String region,
             Credentials credentials) {
        this.scheme = scheme;
        this.bucket = bucket;
        this.endpoint = endpoint == null || endpoint.isEmpty() ? null : endpoint.replaceAll("/+$", "");
        this.pathStyle = pathStyle || this.endpoint != null || bucket.contains(".");
        this.region = region;
        this.credentials = credentials;
    }

    /** "s3://bucket/key", for messages. */
    String uri(String key) {
        return scheme + "://" + bucket + "/" + (key == null ? "" : key);
    }

    // ---- requests ---------------------------------------------------------------------------------------

    /** One S3 request; build with the fluent setters, then {@link #send} or {@link #stream}. */
    final class Call {
        final String method;
        final String key;                  // null or "" for bucket-level requests
        final Map<String, String> query = new LinkedHashMap<>();
        final SortedMap<String, String> headers = new TreeMap<>();
        byte[] body;
        java.nio.file.Path bodyFile;
        long fileOffset;
        long fileLength = -1;
        String payloadHash;

        Call(String method, String key) {
            this.method = method;
            this.key = key;
        }

        Call query(String name, String value) {
            query.put(name, value);
            return this;
        }

        Call header(String name, String value) {
            headers.put(name.toLowerCase(java.util.Locale.ROOT), value);
            return this;
        }

        Call body(byte[] data) {
            this.body = data;
            this.payloadHash = SigV4.hex(SigV4.sha256(data));
            return this;
        }

        /** A slice of a local file as the body (sent with UNSIGNED-PAYLOAD: no second pass over the file). */
        Call body(java.nio.file.Path file, long offset, long length) {
            this.bodyFile = file;
            this.fileOffset = offset;
            this.fileLength = length;
            this.payloadHash = SigV4.UNSIGNED_PAYLOAD;
            return this;
        }

        /** Sends the request and reads the whole response; throws for error statuses. */
        Response send() throws IOException {
            HttpResponse<InputStream> r = execute();
            byte[] data;
            try (InputStream in = r.body()) {
                data = in.readAllBytes();
            }
            return new Response(r.statusCode(), r, data);
        }

        /** Sends the request and hands back the body as a stream (for GET); throws for error statuses. */
        HttpResponse<InputStream> stream() throws IOException {
            return execute();
        }

        private HttpResponse<InputStream> execute() throws IOException {
            String bucketRegion = BUCKET_REGIONS.getOrDefault(bucket, region);
            IOException last = null;
            for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                if (attempt > 1) {
                    sleepBackoff(attempt);
                }
                HttpResponse<InputStream> r;
                long started = System.nanoTime();
                String kind = method + (query.containsKey("list-type") ? " list" : query.containsKey("delete")
                    ? " delete" : headers.containsKey("x-amz-copy-source") ? " copy" : "");
                COUNTS.computeIfAbsent(kind, k -> new LongAdder()).increment();
                try {
                    r = HTTP.send(build(bucketRegion), HttpResponse.BodyHandlers.ofInputStream());
                    MILLIS.computeIfAbsent(kind, k -> new LongAdder()).add((System.nanoTime() - started) / 1_000_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted: " + method + " " + uri(key));
                } catch (java.net.ConnectException e) {
                    last = new IOException(method + " " + uri(key) + ": cannot connect to the S3 endpoint "
                        + (endpoint != null ? endpoint + " (is the lab's local endpoint running?)" : "of AWS")
                        + ": " + e, e);
                    continue;
                } catch (IOException e) {
                    last = new IOException(method + " " + uri(key) + " failed: " + e, e);
                    continue;
                }
                int status = r.statusCode();
                if (status < 300 || (status == 304)) {
                    return r;
                }
                byte[] err;
                try (InputStream in = r.body()) {
                    err = in.readAllBytes();
                }
                String redirect = r.headers().firstValue("x-amz-bucket-region").orElse(null);
                if (redirect != null && !redirect.equals(bucketRegion) && (status == 301 || status == 400)) {
                    BUCKET_REGIONS.put(bucket, redirect);
                    bucketRegion = redirect;
                    continue;
                }
                last = error(status, err, method, key);
                if (status != 429 && status < 500) {
                    throw last;
                }
            }
            if (last != null && MAX_ATTEMPTS > 1) {
                last = retriesExhausted(last);
            }
            throw last;
        }

        private HttpRequest build(String signingRegion) throws IOException {
            String host;
            String path;
            String base;
            if (endpoint != null) {
                base = endpoint;
            } else {
                base = "https://s3." + signingRegion + ".amazonaws.com";
            }
            URI baseUri = URI.create(base);
            String keyPath = key == null || key.isEmpty() ? "" : "/" + SigV4.encode(key, true);
            if (pathStyle) {
                host = hostHeader(baseUri);
                path = (baseUri.getRawPath() == null ? "" : baseUri.getRawPath()) + "/" + bucket + keyPath;
            } else {
                host = bucket + "." + hostHeader(baseUri);
                path = keyPath.isEmpty() ? "/" : keyPath;
            }
            StringBuilder url = new StringBuilder(baseUri.getScheme()).append("://").append(host).append(path);
            if (!query.isEmpty()) {
                url.append('?');
                boolean first = true;
                for (Map.Entry<String, String> q : query.entrySet()) {
                    if (!first) url.append('&');
                    first = false;
                    url.append(SigV4.encode(q.getKey(), false));
                    if (q.getValue() != null) url.append('=').append(SigV4.encode(q.getValue(), false));
                }
            }
            SortedMap<String, String> signed = new TreeMap<>(headers);
            signed.put("host", host);
            Credentials.Keys keys = credentials.get();
            SigV4.sign(method, path, query, signed, payloadHash == null ? SigV4.EMPTY_SHA256 : payloadHash,
                AMZ_DATE.format(Instant.now()), signingRegion, keys.accessKey, keys.secretKey, keys.sessionToken);

            HttpRequest.BodyPublisher publisher;
            if (body != null) {
                publisher = HttpRequest.BodyPublishers.ofByteArray(body);
            } else if (bodyFile != null) {
                publisher = HttpRequest.BodyPublishers.fromPublisher(
                    HttpRequest.BodyPublishers.ofInputStream(this::openSlice), fileLength);
            } else {
                publisher = HttpRequest.BodyPublishers.noBody();
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.toString()))
                .timeout(Duration.ofMinutes(5))
                .method(method, publisher);
            for (Map.Entry<String, String> h : signed.entrySet()) {
                if (!h.getKey().equals("host")) {    // the HTTP client sets Host itself, to the same value
                    b.header(h.getKey(), h.getValue());
                }
            }
            return b.build();
        }

        private InputStream openSlice() {
            try {
                InputStream in = java.nio.file.Files.newInputStream(bodyFile);
                in.skipNBytes(fileOffset);
                return new BoundedInputStream(in, fileLength);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** A completed request: status, headers and body. */
    static final class Response {
        final int status;
        final HttpResponse<?> http;
        final byte[] body;

        Response(int status, HttpResponse<?> http, byte[] body) {
            this.status = status;
            this.http = http;
            this.body = body;
        }

        String header(String name) {
            return http.headers().firstValue(name).orElse(null);
        }
    }

    Call call(String method, String key) {
        return new Call(method, key);
    }

    private static String hostHeader(URI uri) {
        int port = uri.getPort();
        boolean defaultPort = port == -1 || ("https".equals(uri.getScheme()) ? port == 443 : port == 80);
        return defaultPort ? uri.getHost() : uri.getHost() + ":" + port;
    }

    private static void sleepBackoff(int attempt) throws InterruptedIOException {
        long millis = (long) (100 * Math.pow(2, attempt - 2)) + ThreadLocalRandom.current().nextLong(50);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while retrying");
        }
    }

    // ---- object operations ------------------------------------------------------------------------------

    /** Object metadata from HEAD, or null when there is no such object (the bucket may still be missing). */
    ObjectInfo head(String key) throws IOException {
        try {
            Response r = call("HEAD", key).send();
            long len = Long.parseLong(r.header("content-length") == null ? "0" : r.header("content-length"));
            return new ObjectInfo(key, len, parseHttpDate(r.header("last-modified")));
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    /** Throws FileNotFoundException naming the bucket when it does not exist. */
    void headBucket() throws IOException {
        try {
            call("HEAD", "").send();
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException(uri("") + ": bucket '" + bucket + "' does not exist");
        }
    }

    void put(String key, byte[] data) throws IOException {
        call("PUT", key).header("content-type", "application/octet-stream").body(data).send();
    }

    void putFile(String key, java.nio.file.Path file, long length) throws IOException {
        call("PUT", key).header("content-type", "application/octet-stream").body(file, 0, length).send();
    }

    /** Server-side copy within the bucket. S3 may answer 200 with an error document: that is checked too. */
    void copy(String srcKey, String dstKey) throws IOException {
        Response r = call("PUT", dstKey)
            .header("x-amz-copy-source", "/" + bucket + "/" + SigV4.encode(srcKey, true))
            .send();
        String text = new String(r.body, StandardCharsets.UTF_8);
        if (text.contains("<Error>")) {
            throw error(500, r.body, "PUT", dstKey);
        }
    }

    void delete(String key) throws IOException {
        try {
            call("DELETE", key).send();
        } catch (FileNotFoundException e) {
            // already gone: deleting is idempotent
        }
    }

    /** Multi-object delete, up to 1000 keys per request. */
    void deleteMany(List<String> keys) throws IOException {
        for (int start = 0; start < keys.size(); start += 1000) {
            List<String> batch = keys.subList(start, Math.min(keys.size(), start + 1000));
            StringBuilder xml = new StringBuilder("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<Quiet>true</Quiet>");
            for (String k : batch) {
                xml.append("<Object><Key>").append(xmlEscape(k)).append("</Key></Object>");
            }
            xml.append("</Delete>");
            byte[] data = xml.toString().getBytes(StandardCharsets.UTF_8);
            String md5;
            try {
                md5 = Base64.getEncoder().encodeToString(
                    java.security.MessageDigest.getInstance("MD5").digest(data));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            Response r = call("POST", "").query("delete", null)
                .header("content-md5", md5).header("content-type", "application/xml").body(data).send();
            Document doc = parse(r.body);
            NodeList errors = doc.getElementsByTagName("Error");
            if (errors.getLength() > 0) {
                Element e = (Element) errors.item(0);
                throw new IOException("deleting " + uri(text(e, "Key")) + " failed: " + text(e, "Code") + ": "
                    + text(e, "Message") + " (" + errors.getLength() + " keys not deleted)");
            }
        }
    }

    String createMultipartUpload(String key) throws IOException {
        Response r = call("POST", key).query("uploads", null)
            .header("content-type", "application/octet-stream").send();
        return text(parse(r.body).getDocumentElement(), "UploadId");
    }

    String uploadPart(String key, String uploadId, int part, java.nio.file.Path file, long offset, long length)
        throws IOException {
        Response r = call("PUT", key).query("partNumber", Integer.toString(part)).query("uploadId", uploadId)
            .body(file, offset, length).send();
        return r.header("etag");
    }

    void completeMultipartUpload(String key, String uploadId, List<String> etags) throws IOException {
        StringBuilder xml = new StringBuilder("<CompleteMultipartUpload>");
        for (int i = 0; i < etags.size(); i++) {
            xml.append("<Part><PartNumber>").append(i + 1).append("</PartNumber><ETag>")
                .append(xmlEscape(etags.get(i))).append("</ETag></Part>");
        }
        xml.append("</CompleteMultipartUpload>");
        Response r = call("POST", key).query("uploadId", uploadId)
            .header("content-type", "application/xml").body(xml.toString().getBytes(StandardCharsets.UTF_8))
            .send();
        if (new String(r.body, StandardCharsets.UTF_8).contains("<Error>")) {
            throw error(500, r.body, "POST", key);
        }
    }

    void abortMultipartUpload(String key, String uploadId) {
        try {
            call("DELETE", key).query("uploadId", uploadId).send();
        } catch (IOException e) {
            // best effort: a lifecycle rule cleans up abandoned uploads on real S3
        }
    }

    /** One page of ListObjectsV2. */
    static final class Listing {
        final List<ObjectInfo> objects = new ArrayList<>();
        final List<String> prefixes = new ArrayList<>();
        String continuation;
    }

    /** ListObjectsV2 under prefix; delimiter "/" or null; maxKeys 1..1000; continuation from the last page. */
    Listing list(String prefix, String delimiter, int maxKeys, String continuation) throws IOException {
        Call c = call("GET", "").query("list-type", "2").query("encoding-type", "url")
            .query("max-keys", Integer.toString(maxKeys));
        if (prefix != null && !prefix.isEmpty()) c.query("prefix", prefix);
        if (delimiter != null) c.query("delimiter", delimiter);
        if (continuation != null) c.query("continuation-token", continuation);
        Response r;
        try {
            r = c.send();
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException(uri(prefix) + ": bucket '" + bucket + "' does not exist");
        }
        Document doc = parse(r.body);
        Listing page = new Listing();
        Element root = doc.getDocumentElement();
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element)) continue;
            Element e = (Element) n;
            switch (e.getTagName()) {
                case "Contents":
                    page.objects.add(new ObjectInfo(urlDecode(text(e, "Key")), Long.parseLong(text(e, "Size")),
                        parseIsoDate(text(e, "LastModified"))));
                    break;
                case "CommonPrefixes":
                    page.prefixes.add(urlDecode(text(e, "Prefix")));
                    break;
                case "IsTruncated":
                    if ("true".equals(e.getTextContent().trim())) page.continuation = "";
                    break;
                default:
                    break;
            }
        }
        if (page.continuation != null) {
            page.continuation = text(root, "NextContinuationToken");
            if (page.continuation == null || page.continuation.isEmpty()) {
                throw new IOException("listing " + uri(prefix) + ": truncated page without a continuation token");
            }
        }
        return page;
    }

    /** Every object under prefix (no delimiter), all pages. */
    List<ObjectInfo> listAll(String prefix) throws IOException {
        List<ObjectInfo> all = new ArrayList<>();
        String token = null;
        do {
            Listing page = list(prefix, null, 1000, token);
            all.addAll(page.objects);
            token = page.continuation;
        } while (token != null);
        return all;
    }

    /** An object's key, size and last-modified time (epoch millis). */
    static final class ObjectInfo {
        final String key;
        final long size;
        final long modified;

        ObjectInfo(String key, long size, long modified) {
            this.key = key;
            this.size = size;
            this.modified = modified;
        }
    }

    // ---- errors and parsing -----------------------------------------------------------------------------

    private static final Pattern CODE = Pattern.compile("<Code>(.*?)</Code>", Pattern.DOTALL);
    private static final Pattern MESSAGE = Pattern.compile("<Message>(.*?)</Message>", Pattern.DOTALL);
    private static final Pattern ERR_KEY = Pattern.compile("<Key>(.*?)</Key>", Pattern.DOTALL);

    /**
     * An exception for an S3 error response, naming the request and the s3 path (the object's key: S3's error
     * document names one only for some errors, never for 503 SlowDown) instead of showing XML.
     */
    IOException error(int status, byte[] body, String method, String requestKey) {
        String text = new String(body, StandardCharsets.UTF_8);
        String code = find(CODE, text);
        String message = find(MESSAGE, text);
        String errKey = find(ERR_KEY, text);
        String where = uri(errKey != null ? errKey : requestKey == null ? "" : requestKey);
        String detail = "HTTP " + status + (code != null ? " " + code : "") + (message != null ? ": " + message : "");
        if (status == 404) {
            if ("NoSuchBucket".equals(code)) {
                return new FileNotFoundException(uri("") + ": bucket '" + bucket + "' does not exist");
            }
            return new FileNotFoundException(where + ": no such object (" + detail + ")");
        }
        if (status == 403) {
            return new AccessDeniedException(uri(""), null,
                "access denied by S3 (" + detail + "); check the credentials and region given to gluelab");
        }
        if (status == 416) {
            return new java.io.EOFException(where + ": requested range not satisfiable");
        }
        return new IOException("S3 request " + method + " " + where + " failed: " + detail);
    }

    /** The last error of a request that was retried MAX_ATTEMPTS times, saying so (same type, same cause). */
    private static IOException retriesExhausted(IOException last) {
        if (last instanceof FileNotFoundException || last instanceof AccessDeniedException) {
            return last;
        }
        return new IOException(last.getMessage() + " (after " + MAX_ATTEMPTS + " attempts)", last.getCause());
    }

    private static String find(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private static final ThreadLocal<DocumentBuilder> XML = ThreadLocal.withInitial(() -> {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            return f.newDocumentBuilder();
        } catch (javax.xml.parsers.ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    });

    private Document parse(byte[] xml) throws IOException {
        try {
            return XML.get().parse(new ByteArrayInputStream(xml));
        } catch (org.xml.sax.SAXException e) {
            throw new IOException("unreadable S3 response from " + uri("") + ": " + e.getMessage(), e);
        }
    }

    /** The text of the first child element named tag (direct children only), or null. */
    private static String text(Element parent, String tag) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element && ((Element) n).getTagName().equals(tag)) {
                return n.getTextContent();
            }
        }
        return null;
    }

    private static String urlDecode(String s) {
        return s == null ? null : URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
            .replace("'", "&apos;");
    }

    private static long parseIsoDate(String s) {
        try {
            return s == null ? 0L : Instant.parse(s).toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
            return 0L;
        }
    }

    private static long parseHttpDate(String s) {
        try {
            return s == null ? 0L : ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant()
                .toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
            return 0L;
        }
    }

    /** At most limit bytes of another stream (for multipart bodies). */
    private static final class BoundedInputStream extends java.io.FilterInputStream {
        private long remaining;

        BoundedInputStream(InputStream in, long limit) {
            super(in);
            this.remaining = limit;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) return -1;
            int b = super.read();
            if (b >= 0) remaining--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) return -1;
            int n = super.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) remaining -= n;
            return n;
        }
    }
}
