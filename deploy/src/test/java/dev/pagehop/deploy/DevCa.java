package dev.pagehop.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Certificates from deploy/tls/dev-ca.sh, laid out as the manifests' Secrets hold them: one
 * directory per Secret with the keys {@code tls.crt}, {@code tls.key} and {@code ca.crt}, the
 * layout deploy/README.md tells users to create and cert-manager writes.
 */
final class DevCa {
    static final Path SCRIPT = Manifests.DEPLOY.resolve("tls/dev-ca.sh");
    /** The certificate names the README's commands create: the agents' and the client's. */
    static final String AGENT = "pagehop-agent";
    static final String CLIENT = "pagehop-client";
    /** Secret name → dev-ca certificate name, as deploy/README.md maps them. */
    static final Map<String, String> SECRETS = Map.of("pagehop-agent-tls", AGENT, "pagehop-client-tls", CLIENT);

    private DevCa() {
    }

    /** Runs dev-ca.sh into {@code dir} for {@code names}; fails with its output when it fails. */
    static void create(Path dir, String... names) {
        List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString(), dir.toString()));
        cmd.addAll(List.of(names));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * A dev CA with the agents' and the client's certificates under {@code dir}, and beside it one
     * directory per Secret of {@link #SECRETS}, readable by the image's user (bind-mounted into
     * containers as the kubelet mounts the Secret). Returns Secret name → its directory.
     */
    static Map<String, Path> secrets(Path dir) {
        Path ca = dir.resolve("ca");
        create(ca, AGENT, CLIENT);
        try {
            Map<String, Path> out = new java.util.TreeMap<>();
            for (var e : SECRETS.entrySet()) {
                Path secret = dir.resolve(e.getKey());
                Files.createDirectories(secret);
                copy(ca.resolve(e.getValue() + ".crt"), secret.resolve("tls.crt"));
                copy(ca.resolve(e.getValue() + ".key"), secret.resolve("tls.key"));
                copy(ca.resolve("ca.crt"), secret.resolve("ca.crt"));
                Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwxr-xr-x"));
                out.put(e.getKey(), secret);
            }
            // JUnit's temporary directories are private to this user; the agents run as 65532.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** The DNS names in a PEM certificate's subjectAltName. */
    static List<String> dnsNames(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            List<String> out = new ArrayList<>();
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (((Integer) san.get(0)) == 2) {
                        out.add((String) san.get(1));
                    }
                }
            }
            return out;
        } catch (CertificateParsingException e) {
            throw new AssertionError(pem + ": " + e.getMessage(), e);
        } catch (CertificateException e) {
            throw new AssertionError(pem + " is not a certificate: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
