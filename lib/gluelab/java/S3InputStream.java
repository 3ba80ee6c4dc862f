package gluelab.s3;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import org.apache.hadoop.fs.FSInputStream;
import org.apache.hadoop.fs.FileSystem;

/**
 * A seekable stream over one S3 object, read with ranged GETs.
 *
 * <p>Seeks are lazy: nothing is requested until the next read. Reading starts as one open-ended GET from the
 * current position (fast for CSV and JSON scans). The first backward seek (Parquet and ORC jump from the footer
 * back to the column chunks) switches to bounded ranges of at least {@code readahead} bytes, so jumping around
 * does not abort large responses. Short forward seeks skip inside the open response. A read in the last
 * {@value #TAIL} bytes that would need a new request fetches that whole tail once and serves it from memory:
 * a Parquet footer (length, then metadata) costs one GET, and a small file is read with a single GET.
 */
final class S3InputStream extends FSInputStream {
    private static final int SKIP_LIMIT = 256 * 1024;
    private static final int DRAIN_LIMIT = 64 * 1024;
    private static final int TAIL = 64 * 1024;

    private final S3Client s3;
    private final String key;
    private final long length;
    private final long readahead;
    private final FileSystem.Statistics stats;
    private boolean random;
    private long pos;
    private InputStream in;
    private long inPos;
    private long inEnd;
    private boolean closed;
    private byte[] tail;
    private long tailStart;

    S3InputStream(S3Client s3, String key, long length, long readahead, boolean random,
                  FileSystem.Statistics stats) {
        this.s3 = s3;
        this.key = key;
        this.length = length;
        this.readahead = readahead;
        this.random = random;
        this.stats = stats;
    }

    @Override
    public synchronized void seek(long target) throws IOException {
        checkOpen();
        if (target < 0) {
            throw new EOFException(s3.uri(key) + ": cannot seek to negative offset " + target);
        }
        if (target > length) {
            throw new EOFException(s3.uri(key) + ": cannot seek to " + target + ", past the end (" + length + ")");
        }
        pos = target;
    }

    @Override
    public synchronized long getPos() {
        return pos;
    }

    @Override
    public boolean seekToNewSource(long targetPos) {
        return false;
    }

    @Override
    public synchronized int available() throws IOException {
        checkOpen();
        return (int) Math.min(Integer.MAX_VALUE, length - pos);
    }

    @Override
    public synchronized int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] buf, int off, int len) throws IOException {
        checkOpen();
        if (len == 0) {
            return 0;
        }
        if (pos >= length) {
            return -1;
        }
        if (tail != null && pos >= tailStart) {
            return fromTail(buf, off, len);
        }
        boolean streamUsable = in != null && inPos <= pos && pos < inEnd && pos - inPos <= SKIP_LIMIT;
        if (!streamUsable && pos >= length - TAIL) {
            fetchTail();
            return fromTail(buf, off, len);
        }
        for (int attempt = 1; ; attempt++) {
            position(len);
            int n;
            try {
                n = in.read(buf, off, (int) Math.min(len, inEnd - pos));
            } catch (IOException e) {
                if (attempt >= 3) throw new IOException("reading " + s3.uri(key) + " at " + pos + ": " + e, e);
                abort();
                continue;
            }
            if (n < 0) {   // the response ended early: ask again from here
                if (attempt >= 3) throw new EOFException(s3.uri(key) + ": response ended early at " + pos);
                abort();
                continue;
            }
            pos += n;
            inPos += n;
            if (stats != null) stats.incrementBytesRead(n);
            return n;
        }
    }

    private void fetchTail() throws IOException {
        long start = Math.max(0, length - TAIL);
        HttpResponse<InputStream> r = s3.call("GET", key).header("range", "bytes=" + start + "-" + (length - 1))
            .stream();
        try (InputStream body = r.body()) {
            if (r.statusCode() == 200 && start > 0) {
                body.skipNBytes(start);
            }
            tail = body.readNBytes((int) (length - start));
        }
        if (tail.length != length - start) {
            throw new EOFException(s3.uri(key) + ": expected " + (length - start) + " bytes at " + start
                + ", got " + tail.length + " (changed while being read?)");
        }
        tailStart = start;
        if (stats != null) stats.incrementReadOps(1);
    }

    private int fromTail(byte[] buf, int off, int len) {
        int n = (int) Math.min(len, length - pos);
        System.arraycopy(tail, (int) (pos - tailStart), buf, off, n);
        pos += n;
        if (stats != null) stats.incrementBytesRead(n);
        return n;
    }

    /** Makes {@code in} deliver the byte at {@code pos}, reusing, skipping in, or replacing the response. */
    private void position(int want) throws IOException {
        if (in != null && inPos == pos && pos < inEnd) {
            return;
        }
        if (in != null && pos > inPos && pos < inEnd && pos - inPos <= SKIP_LIMIT) {
            long toSkip = pos - inPos;
            while (toSkip > 0) {
                long skipped = in.skip(toSkip);
                if (skipped <= 0) break;
                toSkip -= skipped;
                inPos += skipped;
            }
            if (inPos == pos) return;
        }
        if (in != null && pos < inPos) {
            random = true;
        }
        release();
        long end = random ? Math.min(length, pos + Math.max(want, readahead)) : length;
        HttpResponse<InputStream> r = s3.call("GET", key).header("range", "bytes=" + pos + "-" + (end - 1))
            .stream();
        in = r.body();
        inPos = pos;
        inEnd = end;
        if (r.statusCode() == 200 && pos > 0) {     // the server ignored Range: skip to pos ourselves
            in.skipNBytes(pos);
            inEnd = length;
        }
        if (stats != null) stats.incrementReadOps(1);
    }

    /** Closes the current response: drains a short remainder so the connection is reused, aborts otherwise. */
    private void release() {
        if (in == null) return;
        try {
            if (inEnd - inPos <= DRAIN_LIMIT) {
                in.skip(inEnd - inPos);
            }
            in.close();
        } catch (IOException e) {
            // the connection is discarded either way
        }
        in = null;
    }

    private void abort() {
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // discarded
            }
            in = null;
        }
    }

    private void checkOpen() throws IOException {
        if (closed) throw new IOException(s3.uri(key) + ": stream is closed");
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            tail = null;
            release();
        }
    }
}
