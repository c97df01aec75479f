<?php

declare(strict_types=1);

use Illuminate\Support\Facades\Route;
use Seiger\sTask\Http\MissingExtension;
use Seiger\sTask\Http\DoctorProbe;
use Seiger\sTask\Http\Middleware\AuthorizeManager;

/*
 * The routes of a PHP without the stask extension (typically a web server
 * whose php.ini lacks it while the CLI has it): the module tab explains how
 * to load it, every API route answers 503 JSON saying the same. Nothing here
 * touches the extension's classes.
 */

$hostCsrf = [
    'Illuminate\Foundation\Http\Middleware\VerifyCsrfToken',
    'EvolutionCMS\Middleware\VerifyCsrfToken',
];

Route::middleware(AuthorizeManager::class)->group(static function () use ($hostCsrf): void {
    Route::get('', [MissingExtension::class, 'page'])->name('sTask.index')->withoutMiddleware($hostCsrf);
    // What stask:doctor and the module read about this PHP (see routes.php).
    Route::get('doctor', [DoctorProbe::class, 'handle'])->name('sTask.doctor')->withoutMiddleware($hostCsrf);
    Route::any('{path}', [MissingExtension::class, 'api'])->where('path', '.+')->name('sTask.api')->withoutMiddleware($hostCsrf);
});
