<!DOCTYPE html>
<html lang="{{ str_replace('_', '-', app()->getLocale()) }}">
<head>
    <meta charset="utf-8">
    <title>{{ __('sTask::global.title') }}</title>
    <link rel="stylesheet" href="{{ asset('assets/site/stask.css') }}">
</head>
<body>
<div class="stask-page">
    <h1><img src="{{ asset('assets/site/stask.svg') }}" alt=""> {{ __('sTask::global.title') }} <small>{{ $version }}</small></h1>

    <div class="stask-stats">
        @foreach (['pending', 'running', 'completed', 'failed', 'cancelled', 'total'] as $key)
            <div class="stask-stat"><span>{{ __('sTask::global.stats_' . $key) }}</span><b>{{ $stats[$key] ?? 0 }}</b></div>
        @endforeach
    </div>

    <table class="stask-table">
        <thead>
        <tr>
            <th>#</th>
            <th>{{ __('sTask::global.worker') }}</th>
            <th>{{ __('sTask::global.action') }}</th>
            <th>{{ __('sTask::global.status') }}</th>
            <th>{{ __('sTask::global.progress') }}</th>
            <th>{{ __('sTask::global.created') }}</th>
        </tr>
        </thead>
        <tbody>
        @forelse ($tasks as $task)
            <tr>
                <td>{{ $task->id }}</td>
                <td>{{ $task->identifier }}</td>
                <td>{{ $task->action }}</td>
                <td class="stask-status--{{ $task->status_text }}">{{ __('sTask::global.status_' . $task->status_text) }}</td>
                <td>{{ $task->progress }}%</td>
                <td>{{ $task->created_at }}</td>
            </tr>
        @empty
            <tr><td colspan="6">{{ __('sTask::global.no_tasks') }}</td></tr>
        @endforelse
        </tbody>
    </table>
</div>
</body>
</html>
