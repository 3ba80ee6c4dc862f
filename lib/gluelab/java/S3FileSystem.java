package gluelab.s3;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathIsNotEmptyDirectoryException;
import org.apache.hadoop.fs.impl.OpenFileParameters;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * A Hadoop {@link FileSystem} for {@code s3://bucket/key} that talks to S3's REST API directly.
 *
 * <p>Objects are files; a "directory" is any key prefix ending in '/' that has objects under it, or a
 * zero-byte marker object {@code dir/} (written by {@link #mkdirs}; never listed as a file). Renames are copies
 * followed by deletes, which is what Hadoop's FileOutputCommitter (v1) expects: task output is written under
 * {@code _temporary/} and only moved into place when the job commits, so a failed job leaves nothing under the
 * destination.
 *
 * <p>Configuration (prefix {@value #PREFIX}): {@code endpoint} (e.g. {@code http://127.0.0.1:5000}; empty for
 * AWS), {@code region}, {@code path.style.access}, credentials (see {@link Credentials}), {@code block.size},
 * {@code readahead}, {@code threads}, {@code spill.bytes}, {@code multipart.bytes}, {@code part.bytes},
 * {@code write.bucket.prefix} (when set, files are created, renamed and deleted only in buckets whose name starts
 * with it: a lab on AWS writes only into its own buckets; reads are not limited).
 */
public class S3FileSystem extends FileSystem {
    public static final String PREFIX = "fs.gluelab.s3.";

    private static volatile ExecutorService pool;

    /**
     * Requests this JVM has sent by kind, e.g. "GET=12 (30 ms), GET list=40 (80 ms)" (the benchmark reports
     * them); with reset, the counters restart.
     */
    public static String requestStats(boolean reset) {
        StringBuilder sb = new StringBuilder();
        for (String kind : new TreeSet<>(S3Client.COUNTS.keySet())) {
            if (sb.length() > 0) sb.append(", ");
            LongAdder ms = S3Client.MILLIS.get(kind);
            sb.append(kind).append('=').append(S3Client.COUNTS.get(kind).sum())
                .append(" (").append(ms == null ? 0 : ms.sum()).append(" ms)");
        }
        if (reset) {
            S3Client.COUNTS.clear();
            S3Client.MILLIS.clear();
        }
        return sb.toString();
    }

    private URI uri;
    private String bucket;
    private S3Client s3;
    private Path workingDir;
    private long blockSize;
    private long readahead;
    private long spillBytes;
    private long multipartBytes;
    private long partBytes;
    private int threads;
    private java.nio.file.Path tmpDir;
    private String writablePrefix;
    /**
     * Files this file system wrote inside a committer's {@code _temporary/} tree, by key. Task output there has
     * unique names and is only touched by the committer, so its status is known without asking S3 again (Spark
     * asks for the size of every file it has just written).
     */
    private final Map<String, FileStatus> scratchWritten = new ConcurrentHashMap<>();

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        super.initialize(name, conf);
        setConf(conf);
        bucket = name.getAuthority();
        if (bucket == null || bucket.isEmpty()) {
            throw new IllegalArgumentException("an S3 path needs a bucket, like " + name.getScheme()
                + "://bucket/key; got " + name);
        }
        uri = URI.create(name.getScheme() + "://" + bucket);
        workingDir = new Path(uri.toString() + "/");
        s3 = new S3Client(name.getScheme(), bucket, conf.getTrimmed(PREFIX + "endpoint", ""),
            conf.getBoolean(PREFIX + "path.style.access", false), conf.getTrimmed(PREFIX + "region", "us-east-1"),
            new Credentials(conf));
        blockSize = conf.getLongBytes(PREFIX + "block.size", 32L << 20);
        readahead = conf.getLongBytes(PREFIX + "readahead", 1L << 20);
        spillBytes = conf.getLongBytes(PREFIX + "spill.bytes", 16L << 20);
        multipartBytes = conf.getLongBytes(PREFIX + "multipart.bytes", 128L << 20);
        partBytes = conf.getLongBytes(PREFIX + "part.bytes", 64L << 20);
        threads = conf.getInt(PREFIX + "threads", 8);
        tmpDir = java.nio.file.Paths.get(conf.get("hadoop.tmp.dir", System.getProperty("java.io.tmpdir")),
            "gluelab-s3");
        writablePrefix = conf.getTrimmed(PREFIX + "write.bucket.prefix", "");
    }

    /** Refuses a change to {@code key} when this bucket is not one the lab may write to. */
    private void checkWritable(String key, String what) throws IOException {
        if (!writablePrefix.isEmpty() && !bucket.startsWith(writablePrefix)) {
            throw new java.nio.file.AccessDeniedException(s3.uri(key), null, what + " refused by gluelab's prefix "
                + "guard: the lab writes and deletes only in its own buckets (" + writablePrefix + "...)");
        }
    }

    @Override
    public String getScheme() {
        return uri == null ? "s3" : uri.getScheme();
    }

    @Override
    public URI getUri() {
        return uri;
    }

    @Override
    public String getCanonicalServiceName() {
        return null;     // no delegation tokens
    }

    @Override
    public Path getWorkingDirectory() {
        return workingDir;
    }

    @Override
    public void setWorkingDirectory(Path dir) {
        workingDir = makeQualified(dir);
    }

    @Override
    public long getDefaultBlockSize() {
        return blockSize;
    }

    /** Inside a Hadoop output committer's working tree ({@code .../_temporary/...}). */
    private static boolean isScratch(String key) {
        return key.startsWith("_temporary/") || key.contains("/_temporary/");
    }

    /** Forgets remembered scratch files at or under key (they are being moved or deleted). */
    private void forget(String key) {
        if (!scratchWritten.isEmpty()) {
            scratchWritten.keySet().removeIf(k -> k.equals(key) || k.startsWith(key + "/"));
        }
    }

    /** The object key of a path: "s3://bucket/a/b" -> "a/b"; the bucket root is "". */
    private String keyOf(Path path) {
        Path p = makeQualified(path);
        String k = p.toUri().getPath();
        while (k.startsWith("/")) k = k.substring(1);
        return k;
    }

    private Path pathOf(String key) {
        return new Path(uri.toString() + "/" + key);
    }

    private FileStatus fileStatus(S3Client.ObjectInfo o) {
        return new FileStatus(o.size, false, 1, blockSize, o.modified, pathOf(o.key));
    }

    private FileStatus dirStatus(String key) {
        return new FileStatus(0, true, 1, 0, 0, key.isEmpty() ? new Path(uri.toString() + "/") : pathOf(key));
    }

    // ---- metadata ---------------------------------------------------------------------------------------

    /**
     * One LIST request (prefix = the key, delimiter '/') answers both questions S3A asks with HEAD then LIST:
     * an object named exactly {@code key} is a file, a common prefix {@code key/} (objects or a marker under
     * it) is a directory. Siblings such as {@code key-1} sort before {@code key/}, so a page may not reach it;
     * then the next page is read.
     */
    @Override
    public FileStatus getFileStatus(Path path) throws IOException {
        String key = keyOf(path);
        if (key.isEmpty()) {
            s3.headBucket();
            return dirStatus("");
        }
        FileStatus known = scratchWritten.get(key);
        if (known != null) {
            return known;
        }
        String dir = key + "/";
        String token = null;
        do {
            S3Client.Listing page = s3.list(key, "/", 100, token);
            String last = "";
            for (S3Client.ObjectInfo o : page.objects) {
                if (o.key.equals(key)) return fileStatus(o);
                last = o.key.compareTo(last) > 0 ? o.key : last;
            }
            for (String p : page.prefixes) {
                if (p.equals(dir)) return dirStatus(key);
                last = p.compareTo(last) > 0 ? p : last;
            }
            token = last.compareTo(dir) > 0 ? null : page.continuation;
        } while (token != null);
        throw new FileNotFoundException(s3.uri(key) + ": no such file or directory");
    }

    @Override
    public FileStatus[] listStatus(Path path) throws IOException {
        String key = keyOf(path);
        String prefix = key.isEmpty() ? "" : key + "/";
        List<FileStatus> out = new ArrayList<>();
        boolean any = false;
        String token = null;
        do {
            S3Client.Listing page = s3.list(prefix, "/", 1000, token);
            for (S3Client.ObjectInfo o : page.objects) {
                any = true;
                if (!o.key.equals(prefix) && !o.key.endsWith("/")) {    // folder markers are not files
                    out.add(fileStatus(o));
                }
            }
            for (String p : page.prefixes) {
                any = true;
                out.add(dirStatus(p.substring(0, p.length() - 1)));
            }
            token = page.continuation;
        } while (token != null);
        if (!any) {
            FileStatus self = getFileStatus(path);      // FileNotFoundException when nothing is there
            return self.isDirectory() ? new FileStatus[0] : new FileStatus[] {self};
        }
        return out.toArray(new FileStatus[0]);
    }

    @Override
    public boolean mkdirs(Path path, FsPermission permission) throws IOException {
        String key = keyOf(path);
        if (key.isEmpty()) return true;
        checkWritable(key, "mkdirs");
        try {
            if (getFileStatus(path).isDirectory()) return true;
            throw new FileAlreadyExistsException(s3.uri(key) + ": cannot create a directory, a file is there");
        } catch (FileNotFoundException e) {
            s3.put(key + "/", new byte[0]);      // a marker, so an empty directory exists
            return true;
        }
    }

    // ---- reading and writing ----------------------------------------------------------------------------

    @Override
    public FSDataInputStream open(Path path, int bufferSize) throws IOException {
        return open(path, getFileStatus(path), false);
    }

    private FSDataInputStream open(Path path, FileStatus status, boolean random) throws IOException {
        if (status.isDirectory()) {
            throw new FileNotFoundException(s3.uri(keyOf(path)) + ": is a directory, not a file");
        }
        return new FSDataInputStream(new S3InputStream(s3, keyOf(path), status.getLen(), readahead, random,
            statistics));
    }

    /** openFile(): uses the caller's FileStatus when given (saves a HEAD) and honours the read policy. */
    @Override
    protected CompletableFuture<FSDataInputStream> openFileWithOptions(Path path, OpenFileParameters params)
        throws IOException {
        FileStatus status = params.getStatus();
        if (status == null || status.getLen() < 0) {
            status = getFileStatus(path);
        }
        String policy = params.getOptions() == null ? "" :
            params.getOptions().getTrimmed("fs.option.openfile.read.policy", "");
        boolean random = policy.startsWith("random") || policy.startsWith("vector")
            || policy.startsWith("columnar") || policy.startsWith("parquet") || policy.startsWith("orc");
        return CompletableFuture.completedFuture(open(path, status, random));
    }

    @Override
    public FSDataOutputStream create(Path path, FsPermission permission, boolean overwrite, int bufferSize,
                                     short replication, long blockSize, Progressable progress)
        throws IOException {
        String key = keyOf(path);
        if (key.isEmpty()) {
            throw new IOException(s3.uri("") + ": cannot create a file at the bucket root");
        }
        checkWritable(key, "write");
        if (!overwrite && !isScratch(key)) {    // committer scratch files have unique names: no probe
            try {
                FileStatus existing = getFileStatus(path);
                throw new FileAlreadyExistsException(s3.uri(key) + ": already exists"
                    + (existing.isDirectory() ? " (a directory)" : ""));
            } catch (FileNotFoundException expected) {
                // free to create
            }
        }
        return new FSDataOutputStream(new S3OutputStream(s3, key, tmpDir, spillBytes, multipartBytes, partBytes,
            size -> remember(key, size)),
            statistics);
    }

    @Override
    public FSDataOutputStream createNonRecursive(Path path, FsPermission permission, EnumSet<CreateFlag> flags,
                                                 int bufferSize, short replication, long blockSize,
                                                 Progressable progress) throws IOException {
        return create(path, permission, flags.contains(CreateFlag.OVERWRITE), bufferSize, replication,
            blockSize, progress);
    }

    @Override
    public FSDataOutputStream append(Path path, int bufferSize, Progressable progress) throws IOException {
        throw new UnsupportedOperationException(s3.uri(keyOf(path)) + ": S3 objects cannot be appended to");
    }

    // ---- rename and delete ------------------------------------------------------------------------------

    /**
     * Copy then delete. A file moves to dst, or into dst when dst is a directory; a directory moves every
     * object under it. Not atomic (neither is S3A's); the committer only renames inside its own _temporary
     * tree and into the destination at job commit.
     */
    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        String srcKey = keyOf(src);
        String dstKey = keyOf(dst);
        if (srcKey.isEmpty() || dstKey.equals(srcKey)) {
            return false;
        }
        checkWritable(srcKey, "rename");
        // What is src? A file this file system just wrote, a directory (objects under src/), a file, or nothing.
        FileStatus known = scratchWritten.get(srcKey);
        List<S3Client.ObjectInfo> children = known != null ? List.of() : s3.listAll(srcKey + "/");
        if (known == null && children.isEmpty()) {
            try {
                known = getFileStatus(src);
            } catch (FileNotFoundException e) {
                return false;
            }
        }
        try {
            FileStatus dstStatus = getFileStatus(dst);
            if (!dstStatus.isDirectory()) {
                return false;      // never overwrite a file by rename
            }
            dstKey = dstKey.isEmpty() ? src.getName() : dstKey + "/" + src.getName();
            if (exists(pathOf(dstKey))) {
                return false;
            }
        } catch (FileNotFoundException e) {
            // dst is new: fine (S3 needs no parent directory)
        }
        forget(srcKey);
        if (children.isEmpty()) {
            s3.copy(srcKey, dstKey);
            s3.delete(srcKey);
            remember(dstKey, known.getLen());
            return true;
        }
        if (dstKey.startsWith(srcKey + "/")) {
            throw new IOException("cannot move " + s3.uri(srcKey) + " into itself (" + s3.uri(dstKey) + ")");
        }
        String from = srcKey + "/";
        String to = dstKey + "/";
        List<String> keys = new ArrayList<>();
        List<Future<?>> copies = new ArrayList<>();
        for (S3Client.ObjectInfo o : children) {     // includes the marker from/ when there is one
            String target = to + o.key.substring(from.length());
            keys.add(o.key);
            copies.add(pool(threads).submit(() -> {
                s3.copy(o.key, target);
                return null;
            }));
        }
        await(copies);
        s3.deleteMany(keys);
        for (S3Client.ObjectInfo o : children) {
            if (!o.key.endsWith("/")) remember(to + o.key.substring(from.length()), o.size);
        }
        return true;
    }

    /** Remembers a file's size when it is committer scratch (see {@link #scratchWritten}). */
    private void remember(String key, long size) {
        if (isScratch(key)) {
            scratchWritten.put(key, new FileStatus(size, false, 1, blockSize, System.currentTimeMillis(),
                pathOf(key)));
        }
    }

    @Override
    public boolean delete(Path path, boolean recursive) throws IOException {
        String key = keyOf(path);
        checkWritable(key, "delete");
        FileStatus status;
        try {
            status = getFileStatus(path);
            forget(key);
        } catch (FileNotFoundException e) {
            return false;
        }
        if (!status.isDirectory()) {
            s3.delete(key);
            return true;
        }
        if (key.isEmpty()) {
            throw new IOException("refusing to delete every object in " + s3.uri("") + " (the bucket root)");
        }
        String prefix = key + "/";
        List<String> keys = new ArrayList<>();
        for (S3Client.ObjectInfo o : s3.listAll(prefix)) {
            keys.add(o.key);
        }
        if (!recursive && keys.stream().anyMatch(k -> !k.equals(prefix))) {
            throw new PathIsNotEmptyDirectoryException(s3.uri(key));
        }
        if (!keys.contains(prefix)) keys.add(prefix);
        s3.deleteMany(keys);
        return true;
    }

    private static ExecutorService pool(int threads) {
        if (pool == null) {
            synchronized (S3FileSystem.class) {
                if (pool == null) {
                    pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
                        Thread t = new Thread(r, "gluelab-s3-copy");
                        t.setDaemon(true);
                        return t;
                    });
                }
            }
        }
        return pool;
    }

    /** Waits for every task; rethrows the first failure after all have finished. */
    private static void await(List<Future<?>> futures) throws IOException {
        IOException first = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (first == null) first = c instanceof IOException ? (IOException) c : new IOException(c);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted during rename");
            }
        }
        if (first != null) throw first;
    }
}
