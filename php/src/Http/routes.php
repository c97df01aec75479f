<?php

declare(strict_types=1);

use Illuminate\Support\Facades\Route;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;

/*
 * The manager page of sTask (placeholder): loaded by the provider inside the
 * `mgr` middleware group, so under /manager/stask in Evolution CMS.
 */
Route::get('stask', static function () {
    if (function_exists('evo') && !evo()->hasPermission('stask')) {
        abort(403, 'No access');
    }

    return view('sTask::index', [
        'stats' => sTask::getStats(),
        'tasks' => sTaskModel::latest('id')->limit(20)->get(),
        'version' => sTask::version(),
    ]);
})->name('sTask.index');
