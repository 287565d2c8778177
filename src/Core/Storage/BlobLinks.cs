namespace GanService.Core.Storage;

/// <summary>Links to blobs for clients: the store's own when it gives them (S3 presigned URLs), else the Api's signed
/// /files/ link under the given base URL. Both expire after Storage:LinkTtlSeconds.</summary>
public sealed class BlobLinks(IBlobStore store, UrlSigner signer)
{
    public string Link(string key, string apiBaseUrl) => store.DirectLink(key, signer.Now + signer.Ttl) ?? apiBaseUrl + signer.Sign(key);
}
