<?php

declare(strict_types=1);

namespace Seiger\sTask\Http;

/**
 * Builds and renders the admin module page (views/module.php) for any host:
 * the Laravel/Evolution adapter (csrf mode) and the standalone front
 * controller (bearer mode) both come through here.
 */
final class ModulePage
{
    public const LOCALES = ['en', 'uk', 'ru'];

    private const PACKAGE_PATH = __DIR__ . '/../..';

    /** The translated strings of the page; unknown locales fall back to English, missing keys too. */
    public static function strings(string $locale): array
    {
        $strings = require self::PACKAGE_PATH . '/lang/en/admin.php';
        $locale = self::locale($locale);
        if ($locale !== 'en') {
            $strings = array_merge($strings, require self::PACKAGE_PATH . '/lang/' . $locale . '/admin.php');
        }

        return $strings;
    }

    /** en, uk or ru from a locale such as "uk_UA", "ru-RU" or "english"; en otherwise. */
    public static function locale(?string $locale): string
    {
        $locale = strtolower(substr(trim((string) $locale), 0, 2));
        $aliases = ['ua' => 'uk'];
        $locale = $aliases[$locale] ?? $locale;

        return in_array($locale, self::LOCALES, true) ? $locale : 'en';
    }

    /**
     * @param array{api: string, auth: 'csrf'|'bearer', csrf?: string, locale?: string, assets: string, version?: string} $options
     */
    public static function data(array $options): array
    {
        $locale = self::locale($options['locale'] ?? 'en');

        return [
            'api' => rtrim($options['api'], '/'),
            'auth' => ($options['auth'] ?? 'csrf') === 'bearer' ? 'bearer' : 'csrf',
            'csrf' => (string) ($options['csrf'] ?? ''),
            'locale' => $locale,
            'assets' => rtrim($options['assets'], '/'),
            'version' => (string) ($options['version'] ?? self::assetVersion()),
            'strings' => self::strings($locale),
        ];
    }

    public static function render(array $options): string
    {
        $page = self::data($options);
        ob_start();
        try {
            (static function (array $page): void {
                require self::PACKAGE_PATH . '/views/module.php';
            })($page);
        } catch (\Throwable $e) {
            ob_end_clean();
            throw $e;
        }

        return (string) ob_get_clean();
    }

    /** Folder of the page's script and stylesheet. */
    public static function assetsPath(): string
    {
        return realpath(self::PACKAGE_PATH . '/assets') ?: self::PACKAGE_PATH . '/assets';
    }

    /** Changes whenever one of the two assets changes, so browsers do not keep an old script. */
    public static function assetVersion(): string
    {
        $dir = self::assetsPath();
        $stamp = 0;
        foreach (['stask-admin.js', 'stask-admin.css'] as $file) {
            $stamp = max($stamp, (int) @filemtime($dir . '/' . $file));
        }

        return base_convert((string) $stamp, 10, 36);
    }
}
