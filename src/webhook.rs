//! Webhook signatures: `X-Signature` is the lowercase hex HMAC-SHA256 of the raw body.

use subtle::ConstantTimeEq as _;

use crate::Error;
use crate::algorithm::{Algorithm, MAX_MAC_LEN};
use crate::key::Key;

/// The length of a webhook signature: 64 hexadecimal characters.
pub const WEBHOOK_SIGNATURE_LEN: usize = 64;

impl Key {
    fn webhook_mac<'o>(&self, body: &[u8], out: &'o mut [u8; MAX_MAC_LEN]) -> Result<&'o [u8], Error> {
        // Stream signs webhooks with HMAC-SHA256 of the API secret, which is an HS256 key's.
        if self.algorithm() != Algorithm::Hs256 {
            return Err(Error::AlgorithmNotAllowed);
        }
        Ok(self.mac().mac(body, out))
    }

    /// The `X-Signature` Stream sends with a webhook: lowercase hex of the HMAC-SHA256 of
    /// `body` with the API secret. Written to `out`, which needs 64 bytes.
    ///
    /// ```
    /// use stackjwt::{Algorithm, Key};
    /// let key = Key::new_weak(Algorithm::Hs256, b"secret")?;
    /// let sig = key.webhook_signature(b"{}", &mut [0u8; 64])?.to_owned();
    /// assert_eq!(sig.len(), 64);
    /// assert!(key.verify_webhook(b"{}", &sig).is_ok());
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::AlgorithmNotAllowed`] unless the key is HS256 (Stream's webhooks use
    /// HMAC-SHA256); [`Error::BufferTooSmall`] for an `out` under 64 bytes.
    pub fn webhook_signature<'o>(&self, body: &[u8], out: &'o mut [u8]) -> Result<&'o str, Error> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let out =
            out.get_mut(..WEBHOOK_SIGNATURE_LEN).ok_or(Error::BufferTooSmall { needed: WEBHOOK_SIGNATURE_LEN })?;
        let mut tag = [0u8; MAX_MAC_LEN];
        let tag = self.webhook_mac(body, &mut tag)?;
        for (pair, &b) in out.chunks_exact_mut(2).zip(tag) {
            let hex = |nibble: u8| HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
            pair.copy_from_slice(&[hex(b >> 4), hex(b & 0xf)]);
        }
        core::str::from_utf8(out).map_err(|_| Error::InvalidWebhookSignature)
    }

    /// Checks a webhook's `X-Signature` against its raw `body`, comparing the MAC in constant
    /// time. Upper-case hex is accepted; anything but 64 hex characters is refused.
    ///
    /// # Errors
    /// [`Error::InvalidWebhookSignature`] for a signature of the wrong length or with a
    /// non-hex character, [`Error::SignatureMismatch`] when it does not match,
    /// [`Error::AlgorithmNotAllowed`] unless the key is HS256.
    pub fn verify_webhook(&self, body: &[u8], signature: impl AsRef<[u8]>) -> Result<(), Error> {
        let signature = signature.as_ref();
        if signature.len() != WEBHOOK_SIGNATURE_LEN {
            return Err(Error::InvalidWebhookSignature);
        }
        let mut given = [0u8; 32];
        for (b, pair) in given.iter_mut().zip(signature.chunks_exact(2)) {
            let nibble = |c: u8| char::from(c).to_digit(16).ok_or(Error::InvalidWebhookSignature);
            let (hi, lo) = match pair {
                [hi, lo] => (nibble(*hi)?, nibble(*lo)?),
                _ => return Err(Error::InvalidWebhookSignature),
            };
            *b = u8::try_from((hi << 4) | lo).map_err(|_| Error::InvalidWebhookSignature)?;
        }
        let mut tag = [0u8; MAX_MAC_LEN];
        let tag = self.webhook_mac(body, &mut tag)?;
        if bool::from(tag.ct_eq(&given[..])) { Ok(()) } else { Err(Error::SignatureMismatch) }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
    #[test]
    fn signature_is_hex_hmac_sha256_of_the_body() {
        let key = Key::new_weak(Algorithm::Hs256, b"Jefe").unwrap();
        let body = b"what do ya want for nothing?";
        let want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let mut out = [0u8; 64];
        assert_eq!(key.webhook_signature(body, &mut out).unwrap(), want);
        assert_eq!(key.verify_webhook(body, want), Ok(()));
        assert_eq!(key.verify_webhook(body, want.to_ascii_uppercase()), Ok(()));
        let mut wrong = *b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        wrong[63] = b'4';
        assert_eq!(key.verify_webhook(body, wrong), Err(Error::SignatureMismatch));
        assert_eq!(key.verify_webhook(b"other body", want), Err(Error::SignatureMismatch));
        assert_eq!(key.verify_webhook(body, &want[..62]), Err(Error::InvalidWebhookSignature));
        let mut bad = wrong;
        bad[10] = b'g';
        assert_eq!(key.verify_webhook(body, bad), Err(Error::InvalidWebhookSignature));
        assert_eq!(key.webhook_signature(body, &mut out[..63]), Err(Error::BufferTooSmall { needed: 64 }));
        let hs512 = Key::new(Algorithm::Hs512, &[1; 64]).unwrap();
        assert_eq!(hs512.verify_webhook(body, want), Err(Error::AlgorithmNotAllowed));
    }
}
