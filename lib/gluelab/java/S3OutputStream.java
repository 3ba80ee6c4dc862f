package gluelab.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Buffers what is written and uploads it when the stream is closed, so an object appears whole or not at all.
 *
 * <p>Small files stay in memory; past {@code spillBytes} the buffer moves to a local temporary file. On close,
 * a file up to {@code multipartBytes} is sent with one PUT, a larger one as a multipart upload in parts of
 * {@code partBytes} (aborted on failure). Nothing is uploaded before close, and a failed close leaves no object behind.
 */
final class S3OutputStream extends OutputStream {
    private final S3Client s3;
    private final String key;
    private final long spillBytes;
    private final long multipartBytes;
    private final long partBytes;
    private final Path tmpDir;
    private final java.util.function.LongConsumer uploaded;
    private ByteArrayOutputStream memory = new ByteArrayOutputStream(64 * 1024);
    private Path file;
    private OutputStream fileOut;
    private long size;
    private boolean closed;

    /** {@code uploaded} is told the object's size once it exists. */
    S3OutputStream(S3Client s3, String key, Path tmpDir, long spillBytes, long multipartBytes, long partBytes,
                   java.util.function.LongConsumer uploaded) {
        this.partBytes = Math.max(5L << 20, partBytes);     // S3's minimum part size
        this.uploaded = uploaded;
        this.s3 = s3;
        this.key = key;
        this.tmpDir = tmpDir;
        this.spillBytes = spillBytes;
        this.multipartBytes = multipartBytes;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (closed) throw new IOException(s3.uri(key) + ": stream is closed");
        if (fileOut == null && size + len > spillBytes) {
            Files.createDirectories(tmpDir);
            file = Files.createTempFile(tmpDir, "s3upload-", ".tmp");
            fileOut = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20);
            memory.writeTo(fileOut);
            memory = null;
        }
        if (fileOut != null) {
            fileOut.write(b, off, len);
        } else {
            memory.write(b, off, len);
        }
        size += len;
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) return;
        closed = true;
        try {
            if (fileOut == null) {
                s3.put(key, memory.toByteArray());
            } else {
                fileOut.close();
                if (size <= multipartBytes) {
                    s3.putFile(key, file, size);
                } else {
                    multipart();
                }
            }
            uploaded.accept(size);
        } finally {
            memory = null;
            if (file != null) Files.deleteIfExists(file);
        }
    }

    private void multipart() throws IOException {
        String uploadId = s3.createMultipartUpload(key);
        try {
            List<String> etags = new ArrayList<>();
            int part = 1;
            for (long offset = 0; offset < size; offset += partBytes, part++) {
                etags.add(s3.uploadPart(key, uploadId, part, file, offset, Math.min(partBytes, size - offset)));
            }
            s3.completeMultipartUpload(key, uploadId, etags);
        } catch (IOException | RuntimeException e) {
            s3.abortMultipartUpload(key, uploadId);
            throw e;
        }
    }
}
