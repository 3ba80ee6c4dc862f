package gluelab.s3;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;

/**
 * Where the signing keys come from, in order: the Hadoop configuration ({@code fs.gluelab.s3.access.key},
 * {@code .secret.key}, {@code .session.token}); a credential process ({@code fs.gluelab.s3.credentials.process},
 * a command printing the AWS CLI's credential_process JSON, re-run shortly before the keys expire); the
 * environment variables {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_SESSION_TOKEN}.
 */
final class Credentials {
    /** One set of keys. */
    static final class Keys {
        final String accessKey;
        final String secretKey;
        final String sessionToken;
        final Instant expiration;

        Keys(String accessKey, String secretKey, String sessionToken, Instant expiration) {
            this.accessKey = accessKey;
            this.secretKey = secretKey;
            this.sessionToken = sessionToken;
            this.expiration = expiration;
        }
    }

    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final String process;
    private Keys keys;

    Credentials(Configuration conf) {
        String access = conf.getTrimmed(S3FileSystem.PREFIX + "access.key", "");
        String secret = conf.getTrimmed(S3FileSystem.PREFIX + "secret.key", "");
        String token = conf.getTrimmed(S3FileSystem.PREFIX + "session.token", "");
        this.process = conf.getTrimmed(S3FileSystem.PREFIX + "credentials.process", "");
        if (!access.isEmpty() && !secret.isEmpty()) {
            keys = new Keys(access, secret, token.isEmpty() ? null : token, null);
        }
    }

    /** The current keys, refreshing them from the credential process when they expire within 5 minutes. */
    synchronized Keys get() throws IOException {
        if (keys != null && (keys.expiration == null || keys.expiration.isAfter(Instant.now().plusSeconds(300)))) {
            return keys;
        }
        if (!process.isEmpty()) {
            keys = runProcess();
            return keys;
        }
        String access = System.getenv("AWS_ACCESS_KEY_ID");
        String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
        if (access != null && secret != null) {
            keys = new Keys(access, secret, System.getenv("AWS_SESSION_TOKEN"), null);
            return keys;
        }
        throw new IOException("no S3 credentials: set " + S3FileSystem.PREFIX + "access.key and "
            + S3FileSystem.PREFIX + "secret.key (gluelab.spark.session does this), "
            + S3FileSystem.PREFIX + "credentials.process, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }

    private Keys runProcess() throws IOException {
        List<String> command = new ArrayList<>(List.of(process.split("\\s+")));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while fetching credentials");
        }
        String access = null;
        String secret = null;
        String token = null;
        Instant expiration = null;
        Matcher m = FIELD.matcher(out);
        while (m.find()) {
            String value = m.group(2).replace("\\/", "/").replace("\\\"", "\"").replace("\\\\", "\\");
            switch (m.group(1)) {
                case "AccessKeyId": access = value; break;
                case "SecretAccessKey": secret = value; break;
                case "SessionToken": token = value; break;
                case "Expiration": expiration = Instant.parse(value); break;
                default: break;
            }
        }
        if (rc != 0 || access == null || secret == null) {
            throw new IOException("the credential process '" + process + "' gave no credentials (exit code "
                + rc + ")");
        }
        return new Keys(access, secret, token, expiration);
    }
}
