<?php

declare(strict_types=1);

namespace Stask\Hostile;

use Seiger\sTask\Facades\sTask;

/**
 * What a row of the catalogue (catalogue.php) works with: the fixtures the
 * test prepared (task ids, the storage folder, the API token) and helpers
 * that call sTask::handleHttp() the way the adapters do.
 */
final class Hostile
{
    /** Bearer token the runner configures (rows that test bearer mode use it). */
    public const TOKEN = 'hostile-token-0123456789abcdef';

    /** @param array<string, mixed> $f fixtures: task ids, paths */
    public function __construct(public readonly array $f)
    {
    }

    /** A trusted request (the CMS adapter's shape) plus $extra keys of the request array. */
    public function http(string $method, string $path, array $extra = []): array
    {
        return sTask::handleHttp($extra + ['method' => $method, 'path' => $path, 'auth' => ['mode' => 'trusted', 'user_id' => 1]]);
    }

    /** A trusted request with a JSON body: arrays are encoded, strings sent verbatim. */
    public function json(string $method, string $path, array|string $body, array $extra = []): array
    {
        $raw = is_string($body) ? $body : json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);

        return $this->http($method, $path, $extra + ['body' => $raw, 'headers' => ['content-type' => 'application/json']]);
    }

    /** A GET with a query array. */
    public function query(string $path, array $query): array
    {
        return $this->http('GET', $path, ['query' => $query]);
    }

    /** Bearer mode with the given Authorization header (null: none). */
    public function bearer(string $method, string $path, ?string $authorization, array $extra = []): array
    {
        $headers = $authorization === null ? [] : ['authorization' => $authorization];

        return sTask::handleHttp($extra + ['method' => $method, 'path' => $path, 'headers' => $headers, 'auth' => ['mode' => 'bearer']]);
    }

    /** A multipart upload of $content named $name (a real temp file, as PHP's). */
    public function upload(string $path, string $name, string $content = "a,b\n1,2\n", array $extra = []): array
    {
        $tmp = tempnam(sys_get_temp_dir(), 'php');
        file_put_contents($tmp, $content);
        $file = ['name' => $name, 'type' => 'text/plain', 'tmp_name' => $tmp, 'error' => 0, 'size' => strlen($content)];

        return $this->http('POST', $path, $extra + ['files' => ['file' => $file]]);
    }

    /** An array that contains itself. */
    public static function recursive(): array
    {
        $a = ['x' => 1];
        $a['self'] = &$a;

        return $a;
    }

    /** [[[...]]] $depth levels deep. */
    public static function deep(int $depth, mixed $leaf = 1): array
    {
        $a = [$leaf];
        for ($i = 1; $i < $depth; $i++) {
            $a = [$a];
        }

        return $a;
    }

    /** JSON text nested $depth levels deep. */
    public static function deepJson(int $depth): string
    {
        return '{"identifier":"product","action":"import","data":' . str_repeat('{"a":', $depth) . '1' . str_repeat('}', $depth) . '}';
    }
}
