<?php

declare(strict_types=1);

namespace Seiger\sTask\Support;

/**
 * Which versions of the stask extension this package works with.
 *
 * The package and the extension are released together; an extension
 * outside SUPPORTED is treated as missing (the host keeps working, the
 * log, the module and stask:doctor name both versions). SUPPORTED is the
 * same constraint as `ext-stask` in php/composer.json (tests/packaging
 * checks they agree).
 */
final class ExtensionVersion
{
    /** This package's version. */
    public const PACKAGE = '0.1.0';

    /** The extension versions it works with (Composer constraint syntax). */
    public const SUPPORTED = '~0.1.0';

    /** @var array<string, bool> */
    private static array $cache = [];

    /** The version of the stask extension loaded in this PHP, or null. */
    public static function loaded(): ?string
    {
        if (!extension_loaded('stask')) {
            return null;
        }
        $version = phpversion('stask');

        return is_string($version) && $version !== '' ? $version : '0';
    }

    /** The extension is loaded and inside SUPPORTED. */
    public static function compatible(): bool
    {
        $version = self::loaded();

        return $version !== null && self::satisfies($version, self::SUPPORTED);
    }

    /** The extension is loaded but outside SUPPORTED. */
    public static function mismatched(): bool
    {
        $version = self::loaded();

        return $version !== null && !self::satisfies($version, self::SUPPORTED);
    }

    /** What to do about a loaded extension of another version (for the log, the module, the commands, doctor). */
    public static function mismatchMessage(): string
    {
        return 'sTask ' . self::PACKAGE . ' needs the stask extension ' . self::SUPPORTED . ' but this PHP ('
            . PHP_SAPI . ' ' . PHP_VERSION . ') has stask ' . (self::loaded() ?? 'none') . ' loaded, so sTask is off. '
            . 'Install the matching extension (pie install seiger/stask-ext:' . self::SUPPORTED . ', or the release archive '
            . 'php_stask-' . self::PACKAGE . '_php' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . '-…), '
            . 'or update this package to the version of the extension; then restart PHP-FPM and the workers.';
    }

    /**
     * Whether $version meets $constraint: Composer's syntax for what a
     * package needs (`1.2.3`, `*`, `^1.2`, `~1.2`, `~1.2.3`, `1.2.*`,
     * `>=1.0 <2.0`, `>=1.0,<2.0`, `A || B`). Pre-release and build
     * suffixes of $version are ignored.
     */
    public static function satisfies(string $version, string $constraint): bool
    {
        $key = $version . '|' . $constraint;
        if (isset(self::$cache[$key])) {
            return self::$cache[$key];
        }
        $parsed = self::parse($version);
        $result = false;
        if ($parsed !== null) {
            foreach (preg_split('/\s*\|\|?\s*/', trim($constraint)) as $alternative) {
                $all = true;
                $parts = preg_split('/\s*,\s*|\s+/', trim($alternative), -1, PREG_SPLIT_NO_EMPTY);
                foreach ($parts === [] ? ['*'] : $parts as $part) {
                    if (!self::meets($parsed, $part)) {
                        $all = false;
                        break;
                    }
                }
                if ($all) {
                    $result = true;
                    break;
                }
            }
        }

        return self::$cache[$key] = $result;
    }

    /** @return array{0:int,1:int,2:int}|null */
    private static function parse(string $version): ?array
    {
        if (!preg_match('/^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/', trim($version), $m)) {
            return null;
        }

        return [(int) $m[1], (int) ($m[2] ?? 0), (int) ($m[3] ?? 0)];
    }

    /** @param array{0:int,1:int,2:int} $v */
    private static function meets(array $v, string $part): bool
    {
        if ($part === '*' || $part === '') {
            return true;
        }
        if (preg_match('/^(>=|<=|>|<|!=|==|=)?\s*v?(\d+(?:\.\d+){0,2})$/', $part, $m)) {
            $cmp = self::compare($v, self::parse($m[2]));
            switch ($m[1]) {
                case '>=': return $cmp >= 0;
                case '<=': return $cmp <= 0;
                case '>': return $cmp > 0;
                case '<': return $cmp < 0;
                case '!=': return $cmp !== 0;
                default:
                    return $cmp === 0;
            }
        }
        if (preg_match('/^v?(\d+)(?:\.(\d+))?\.\*$/', $part, $m)) {
            // 1.* or 1.2.*
            return $v[0] === (int) $m[1] && (!isset($m[2]) || $m[2] === '' || $v[1] === (int) $m[2]);
        }
        if (preg_match('/^\^v?(\d+(?:\.\d+){0,2})$/', $part, $m)) {
            $low = self::parse($m[1]);
            // ^1.2.3 < 2.0.0; ^0.2.3 < 0.3.0; ^0.0.3 < 0.0.4
            if ($low[0] > 0) {
                $high = [$low[0] + 1, 0, 0];
            } elseif ($low[1] > 0 || substr_count($m[1], '.') < 2) {
                $high = substr_count($m[1], '.') === 0 ? [1, 0, 0] : [0, $low[1] + 1, 0];
            } else {
                $high = [0, 0, $low[2] + 1];
            }

            return self::compare($v, $low) >= 0 && self::compare($v, $high) < 0;
        }
        if (preg_match('/^~v?(\d+(?:\.\d+){0,2})$/', $part, $m)) {
            $low = self::parse($m[1]);
            // ~1.2.3 < 1.3.0; ~1.2 < 2.0.0; ~1 < 2.0.0
            $high = substr_count($m[1], '.') >= 2 ? [$low[0], $low[1] + 1, 0] : [$low[0] + 1, 0, 0];

            return self::compare($v, $low) >= 0 && self::compare($v, $high) < 0;
        }

        // Syntax this checker does not know: refuse rather than guess.
        return false;
    }

    /**
     * @param array{0:int,1:int,2:int} $a
     * @param array{0:int,1:int,2:int} $b
     */
    private static function compare(array $a, array $b): int
    {
        return $a <=> $b;
    }
}
