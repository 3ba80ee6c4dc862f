package gluelab.s3;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.DelegateToFileSystem;

/**
 * The same file system behind Hadoop's newer FileContext API ({@code fs.AbstractFileSystem.s3.impl}), which
 * Structured Streaming uses for checkpoints.
 */
public class S3Fs extends DelegateToFileSystem {
    public S3Fs(URI uri, Configuration conf) throws IOException, URISyntaxException {
        super(uri, new S3FileSystem(), conf, uri.getScheme(), false);
    }

    @Override
    public int getUriDefaultPort() {
        return -1;
    }
}
