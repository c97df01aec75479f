<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

use Seiger\sTask\Support\ExtensionVersion;

/**
 * What the web server's PHP says about itself (GET {prefix}/doctor, which
 * the module calls), kept in <storage>/doctor-web.json so that
 * stask:doctor, run from the command line, can tell whether the PHP that
 * serves the site has the extension too.
 */
final class WebReport
{
    public const FILE = 'doctor-web.json';

    /** This PHP: version, SAPI, the stask extension and its fit, its ini files. */
    public static function current(): array
    {
        return [
            'php' => PHP_VERSION,
            'sapi' => PHP_SAPI,
            'extension' => ExtensionVersion::loaded(),
            'package' => ExtensionVersion::PACKAGE,
            'supported' => ExtensionVersion::SUPPORTED,
            'compatible' => ExtensionVersion::compatible(),
            'ini' => php_ini_loaded_file() ?: null,
            'scan_dir' => PHP_CONFIG_FILE_SCAN_DIR !== '' ? PHP_CONFIG_FILE_SCAN_DIR : null,
            'memory_limit' => (string) ini_get('memory_limit'),
            'host' => (string) gethostname(),
            'time' => time(),
        ];
    }

    /** Writes the report (atomically; a read-only storage only loses the report). */
    public static function record(string $storage, array $report): void
    {
        if ($storage === '' || (!is_dir($storage) && !@mkdir($storage, 0755, true) && !is_dir($storage))) {
            return;
        }
        $file = rtrim($storage, '/') . '/' . self::FILE;
        $tmp = $file . '.' . getmypid() . '.tmp';
        if (@file_put_contents($tmp, json_encode($report, JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT)) !== false) {
            @rename($tmp, $file);
        }
        if (is_file($tmp)) {
            @unlink($tmp);
        }
    }

    public static function read(string $storage): ?array
    {
        $file = rtrim($storage, '/') . '/' . self::FILE;
        if (!is_file($file)) {
            return null;
        }
        $data = json_decode((string) @file_get_contents($file), true);

        return is_array($data) && isset($data['php'], $data['sapi'], $data['time']) ? $data : null;
    }

    /**
     * A one-time token for stask:doctor's request to the probe route: the
     * route answers without a manager session only to a request carrying
     * it, within a minute, once.
     */
    public static function issueProbeToken(string $storage): ?string
    {
        if (!is_dir($storage) && !@mkdir($storage, 0755, true) && !is_dir($storage)) {
            return null;
        }
        $token = bin2hex(random_bytes(16));
        $file = rtrim($storage, '/') . '/doctor-probe.json';
        $data = json_encode(['hash' => hash('sha256', $token), 'expires' => time() + 60]);

        return @file_put_contents($file, $data, LOCK_EX) === false ? null : $token;
    }

    public static function acceptProbeToken(string $storage, string $token): bool
    {
        $file = rtrim($storage, '/') . '/doctor-probe.json';
        if ($token === '' || !is_file($file)) {
            return false;
        }
        $data = json_decode((string) @file_get_contents($file), true);
        if (!is_array($data) || !is_string($data['hash'] ?? null) || (int) ($data['expires'] ?? 0) < time()) {
            return false;
        }
        if (!hash_equals($data['hash'], hash('sha256', $token))) {
            return false;
        }
        @unlink($file);

        return true;
    }
}
