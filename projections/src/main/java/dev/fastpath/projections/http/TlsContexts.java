package dev.fastpath.projections.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** Server TLS contexts from a keystore file (PKCS12 by default), for {@link HttpServerSettings}. */
public final class TlsContexts {
  private TlsContexts() {}

  /**
   * Loads a keystore holding the server's private key and certificate chain.
   *
   * @throws IllegalArgumentException naming the file (never the password) when it is missing,
   *     unreadable, of another type, has a wrong password or holds no private key
   */
  public static SSLContext server(Path keystore, char[] password, String type) {
    if (!Files.isRegularFile(keystore)) {
      throw new IllegalArgumentException("TLS keystore not found: " + keystore);
    }
    try (InputStream in = Files.newInputStream(keystore)) {
      KeyStore ks = KeyStore.getInstance(type);
      ks.load(in, password);
      boolean hasKey = false;
      for (String alias : Collections.list(ks.aliases())) {
        hasKey |= ks.isKeyEntry(alias);
      }
      if (!hasKey) {
        throw new IllegalArgumentException(
            "TLS keystore " + keystore + " holds no private key (it needs the server's key pair)");
      }
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    } catch (IOException e) {
      // KeyStore.load reports a wrong password as an IOException caused by
      // UnrecoverableKeyException.
      if (e.getCause() instanceof UnrecoverableKeyException) {
        throw new IllegalArgumentException(
            "TLS keystore " + keystore + ": wrong password (see the password file)", e);
      }
      throw new IllegalArgumentException(
          "cannot read TLS keystore " + keystore + " as " + type + ": " + e.getMessage(), e);
    } catch (UnrecoverableKeyException e) {
      throw new IllegalArgumentException(
          "TLS keystore " + keystore + ": the key's password differs from the keystore's", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot use TLS keystore " + keystore + ": " + e.getMessage(), e);
    }
  }
}
